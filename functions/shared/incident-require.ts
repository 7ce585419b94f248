import { InvalidTaskInputError } from './errors.js';
import type { Incident, Instance, Principal } from './incident.js';

/**
 * What an action needs of an incident, or InvalidTaskInputError. Apart from
 * incident.ts (which re-exports them) so a module that only checks an
 * incident does not bundle the Incident schemas.
 */

type Resources = Pick<Incident, 'instance' | 'secret' | 'lambdaFunction' | 'bucket'>;

/** The incident's resource of one kind, or InvalidTaskInputError for an action that needs it. */
export function requireResource<K extends keyof Resources>(
  incident: Incident,
  kind: K,
  action: string,
): NonNullable<Incident[K]> {
  const resource = incident[kind];
  if (resource === undefined) {
    throw new InvalidTaskInputError(
      `${action} needs a ${kind}; incident ${incident.incidentId} has none`,
    );
  }
  return resource;
}

/** The incident's principal, or InvalidTaskInputError for an action that needs one. */
export function requirePrincipal(incident: Incident, action: string): Principal {
  if (incident.principal === undefined) {
    throw new InvalidTaskInputError(
      `${action} needs a principal; incident ${incident.incidentId} has none`,
    );
  }
  return incident.principal;
}

/** The incident's instance, or InvalidTaskInputError for an action that needs one. */
export function requireInstance(incident: Incident, action: string): Instance {
  if (incident.instance === undefined) {
    throw new InvalidTaskInputError(
      `${action} needs an instance; incident ${incident.incidentId} has none`,
    );
  }
  return incident.instance;
}
