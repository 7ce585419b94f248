/**
 * Tags Cordon puts on every resource it deploys, so an organization's service
 * control policy can protect them by tag (examples/scp-protect-cordon.json):
 * whoever may not touch resources tagged `cordon:managed` cannot stop,
 * rewrite or delete Cordon, and nobody else may set or remove the tag.
 */
export const MANAGED_TAG = 'cordon:managed';
/**
 * On the responder API function only: the one Cordon function its
 * responders invoke themselves (through its URL), so the policy that keeps
 * everyone else from invoking Cordon's functions directly spares it.
 */
export const ENDPOINT_TAG = 'cordon:endpoint';
