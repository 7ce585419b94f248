import { Aws, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type FunctionSpec, SPOKES } from '../../functions/registry.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import {
  type CordonResources,
  deny,
  fencedActions,
  type IamContext,
  type Statement,
  targetSide,
} from '../../functions/shared/iam.js';
import {
  EXTERNAL_ID_PREFIX,
  SOURCE_IDENTITY_PATTERN,
  SPOKE_MAX_SESSION_SECONDS,
  SPOKE_ROLE_PATH,
  spokeRoleArn,
  spokeRoleName,
} from '../../functions/shared/organization.js';
import { StackArns } from '../arns.js';
import { REGION_NAME } from '../config.js';
import { pascal } from '../names.js';
import { inlinePoliciesChars, ROLE_INLINE_POLICIES_MAX_CHARS } from '../policy-size.js';
import { acrossRegions } from '../regional.js';
import { nagForm, render } from './action-function.js';

export interface CordonMemberProps {
  /** The hub's organization id: every spoke role trusts only principals of it (`aws:PrincipalOrgID`). */
  readonly organizationId: string;
  /**
   * The hub deployment's part of every external id: the UUID of the hub
   * stack's id (`deploymentOf` in functions/shared/organization.ts).
   */
  readonly hubDeployment: string;
  /** The exact ARN of the hub function role each spoke role trusts, by function. */
  readonly hubRoleArns: (fn: FunctionName) => string;
  /**
   * Every region the spoke roles act in: the hub's `organization.regions`
   * and the hub's own region. Their regional ARNs (EC2, Auto Scaling,
   * Lambda, Secrets Manager) name each of these, and no other region: the
   * member template is the same wherever it is deployed.
   */
  readonly regions: readonly string[];
  /**
   * Principals no spoke role may write to (the hub's `breakGlassPrincipalArns`).
   * @default none
   */
  readonly breakGlassPrincipalArns?: readonly string[];
}

/**
 * What one member account holds organization-wide: a spoke role per Cordon
 * function that acts on what a finding names (`/cordon/<function>`), with
 * exactly the statements of its declaration that act on the target, over
 * this account's resources; triage's reads only. Each trusts only its own
 * hub function role, inside the organization, with this account's external
 * id and the incident id as source identity. Roles only: no function, no
 * asset, so a StackSet can deploy it anywhere.
 */
export class CordonMember extends Construct {
  readonly roles: Readonly<Partial<Record<FunctionName, iam.Role>>>;

  constructor(scope: Construct, id: string, props: CordonMemberProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const context: SpokeContext = {
      account: Aws.ACCOUNT_ID,
      regions: regionsOf(props.regions),
      arnsIn: (region) => new StackArns(stack, region),
    };
    // The externalIdFor(deployment, account) of functions/shared/organization.ts,
    // with this account's own id: the hub computes the same string.
    const externalId = [EXTERNAL_ID_PREFIX, props.hubDeployment, '-', Aws.ACCOUNT_ID].join('');
    // Every spoke role of this account, by exact ARN: no spoke's writes reach another's.
    const spokeArns = SPOKES.map((spec) => spokeRoleArn(Aws.PARTITION, Aws.ACCOUNT_ID, spec.name));
    const roles: Partial<Record<FunctionName, iam.Role>> = {};
    const fenced: iam.Role[] = [];
    const calls = new Map<iam.Role, iam.PolicyDocument>();
    for (const spec of SPOKES) {
      const statements = spokeStatements(spec, context);
      const document = new iam.PolicyDocument({ statements: statements.map(render) });
      const role = new iam.Role(this, pascal(spec.name), {
        roleName: spokeRoleName(spec.name),
        path: SPOKE_ROLE_PATH,
        description: `Cordon ${spec.name} (spoke): only the calls it makes on this account's resources`,
        maxSessionDuration: Duration.seconds(SPOKE_MAX_SESSION_SECONDS),
        assumedBy: new iam.ArnPrincipal(props.hubRoleArns(spec.name)),
        inlinePolicies: { calls: document },
      });
      calls.set(role, document);
      trustOnly(role, {
        hubRoleArn: props.hubRoleArns(spec.name),
        organizationId: props.organizationId,
        externalId,
      });
      acknowledgeWildcards(role, spec, statements);
      roles[spec.name] = role;
      if (fencedActions(targetSide(spec.iam)).some((a) => a.startsWith('iam:'))) fenced.push(role);
    }
    // One fence for every spoke role with an IAM write (the same exact ARNs
    // for each, in one policy, so the template names them once): none of
    // them writes to a spoke role of this account or to a break-glass
    // principal. A Deny of a call a role does not hold
    // changes nothing for it. Lambda writes need no fence here: no Cordon
    // function lives in a member account.
    const writes = [
      ...new Set(
        SPOKES.flatMap((spec) => fencedActions(targetSide(spec.iam))).filter((a) =>
          a.startsWith('iam:'),
        ),
      ),
    ].sort();
    const fences = new iam.PolicyDocument({
      statements: [render(deny(writes, [...spokeArns, ...(props.breakGlassPrincipalArns ?? [])]))],
    });
    new iam.Policy(this, 'Fences', { document: fences, roles: fenced });
    // Each region adds its ARNs to the policies, and IAM would refuse an
    // oversized role in every member account at once: refused here instead.
    for (const [role, document] of calls) {
      const held = [document, ...(fenced.includes(role) ? [fences] : [])];
      const chars = inlinePoliciesChars(Stack.of(role), held);
      if (chars > ROLE_INLINE_POLICIES_MAX_CHARS) {
        throw new Error(
          `the spoke role ${role.node.id} would hold ${chars} characters of inline policy for ${context.regions.length} regions (${context.regions.join(', ')}); IAM takes at most ${ROLE_INLINE_POLICIES_MAX_CHARS}: list fewer organization.regions`,
        );
      }
    }
    this.roles = roles;
  }
}

/**
 * The regions, each a region's name written out (a token would leave the
 * template to decide where the roles reach), each once.
 */
function regionsOf(regions: readonly string[]): string[] {
  if (regions.length === 0) {
    throw new Error('CordonMember needs at least one region: the regions its spoke roles act in');
  }
  for (const region of regions) {
    if (Token.isUnresolved(region) || !REGION_NAME.test(region)) {
      throw new Error(
        `CordonMember regions: ${region} is not a region name such as eu-west-1 (a value known at synthesis)`,
      );
    }
  }
  return [...new Set(regions)];
}

/**
 * The spoke role's whole trust policy: its hub function role's exact ARN
 * only, inside the organization, with this account's external id and a
 * source identity of the incident id's shape. A request without a source
 * identity has no `sts:SourceIdentity`, so StringLike fails: none gets
 * through. Setting one needs `sts:SetSourceIdentity` allowed too, in a
 * statement of its own: IAM lists `sts:ExternalId` among AssumeRole's
 * condition keys and not SetSourceIdentity's. No `sts:TagSession`: the hub
 * sets no session tags.
 */
function trustOnly(
  role: iam.Role,
  trust: { hubRoleArn: string; organizationId: string; externalId: string },
): void {
  const principals = [new iam.ArnPrincipal(trust.hubRoleArn)];
  const incident = { 'sts:SourceIdentity': SOURCE_IDENTITY_PATTERN };
  const inOrganization = { 'aws:PrincipalOrgID': trust.organizationId };
  const document = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        principals,
        conditions: {
          StringEquals: { ...inOrganization, 'sts:ExternalId': trust.externalId },
          StringLike: incident,
        },
      }),
      new iam.PolicyStatement({
        actions: ['sts:SetSourceIdentity'],
        principals,
        conditions: { StringEquals: inOrganization, StringLike: incident },
      }),
    ],
  });
  const cfn = role.node.defaultChild as iam.CfnRole;
  cfn.addPropertyOverride('AssumeRolePolicyDocument', Stack.of(role).resolve(document.toJSON()));
}

/** What a spoke role's context gives for Cordon's own resources: a mark that fails the synthesis if a target statement names it. */
const HUB_ONLY_MARK = 'cordon-hub-only:';
const hubOnly = (name: keyof CordonResources) => `${HUB_ONLY_MARK}${name}`;
const HUB_ONLY: CordonResources = {
  approvalsTable: hubOnly('approvalsTable'),
  approvalKey: hubOnly('approvalKey'),
  tokenKey: hubOnly('tokenKey'),
  guardrailsTable: hubOnly('guardrailsTable'),
  notificationTopic: hubOnly('notificationTopic'),
  notificationKey: hubOnly('notificationKey'),
  runtimeModeParameter: hubOnly('runtimeModeParameter'),
  rollbackStateMachine: hubOnly('rollbackStateMachine'),
  executionKey: hubOnly('executionKey'),
  stateMachines: [hubOnly('stateMachines')],
  executions: [hubOnly('executions')],
  ledgerStream: hubOnly('ledgerStream'),
  anchorObjects: [hubOnly('anchorObjects')],
};

/** What a spoke role's statements are read against: the member account, and each region it acts in. */
export interface SpokeContext {
  readonly account: IamContext['account'];
  readonly regions: readonly string[];
  /** The ARNs of this account in `region`. */
  readonly arnsIn: (region: string) => IamContext['arn'];
}

/**
 * A spoke role's statements: its declaration's target side, over this
 * account's resources in each of the regions (infra/regional.ts). One
 * naming any of Cordon's own resources (the ledger, its keys, its topic),
 * which stay in the hub, fails the synthesis.
 */
export function spokeStatements(spec: FunctionSpec, member: SpokeContext): Statement[] {
  const statements = acrossRegions(member.regions, member.arnsIn, (arn) =>
    targetSide(spec.iam).statements({ account: member.account, arn, cordon: HUB_ONLY }),
  );
  const named = JSON.stringify(statements).match(new RegExp(`${HUB_ONLY_MARK}(\\w+)`));
  if (named) {
    throw new Error(
      `${spec.name}: a statement marked onTarget names Cordon's ${named[1]}, which stays in the hub (functions/${spec.dir}/iam.ts)`,
    );
  }
  return [...statements];
}

/** cdk-nag: each resource with a wildcard, and `Resource: "*"`, acknowledged with the declaration's reasons. */
function acknowledgeWildcards(
  role: iam.Role,
  spec: FunctionSpec,
  statements: readonly Statement[],
): void {
  const unscoped = targetSide(spec.iam).unscoped ?? {};
  for (const statement of statements) {
    for (const resource of statement.resources) {
      if (resource === '*') {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: `Resource "*" only for calls IAM scopes to nothing narrower (functions/${spec.dir}/iam.ts): ${Object.entries(
            unscoped,
          )
            .map(([call, why]) => `${call}: ${why}`)
            .join('; ')}`,
        });
        continue;
      }
      if (!resource.includes('*')) continue;
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagForm(Stack.of(role), resource)}]`,
        reason:
          statement.wildcard ??
          'The target is only known at run time, from a validated finding; scoped to this member account',
      });
    }
  }
}
