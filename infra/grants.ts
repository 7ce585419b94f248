import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ActionName } from '../functions/shared/catalog.js';
import { INCIDENT_TAG, ISOLATION_TAG, ORIGINAL_GROUPS_TAG } from '../functions/shared/ec2-tags.js';
import { CORDON_ROLE_PATH } from '../functions/shared/runtime-config.js';
import type { ActionFunction } from './constructs/action-function.js';
import { declaredUnscoped } from './unscoped.js';

type Functions = Readonly<Record<ActionName, ActionFunction>>;

/**
 * Exactly the calls each function makes, scoped as narrowly as IAM allows:
 * to this account's resources, and for EC2 to resources carrying Cordon's
 * tags. Every `*` that IAM forces on us is declared, with its reason, in the
 * function's manifest (functions/<action>/iam.ts), and acknowledged from there.
 */
export function grantActions(
  fns: Functions,
  notifications: { grantPublish(g: iam.IGrantable): unknown },
  exemptTag: { readonly key: string; readonly value: string },
): void {
  const scope = new Scoper(Stack.of(fns.triage));
  grantIamCredentials(fns, scope);
  grantEc2Instance(fns, scope);
  grantSecretExposure(fns, scope, exemptTag);
  grantIntegrationQuarantine(fns, scope);
  grantS3Exposure(fns, scope);
  grantRollback(fns, scope, exemptTag);
  scope.allow(fns['update-finding'], ['securityhub:BatchUpdateFindings'], [scope.securityHubHub()]);
  notifications.grantPublish(fns.notify.role);
  notifications.grantPublish(fns['request-approval'].role);
  // Triage announces a tripped circuit breaker.
  notifications.grantPublish(fns.triage.role);
  // Triage re-reads a finding from its source before anything runs unattended.
  scope.allow(fns.triage, ['securityhub:GetFindings'], [scope.securityHubHub()]);
  scope.unscoped(fns.triage, ['guardduty:GetFindings']);
  // Only the approval function can answer a waiting step.
  scope.unscoped(fns.approval, ['states:SendTaskSuccess', 'states:SendTaskFailure']);
}

function grantIamCredentials(fns: Functions, s: Scoper): void {
  const users = s.iam('user');
  const roles = s.iam('role');
  // Triage verifies the principal the finding names and reads its tags.
  s.allow(fns.triage, ['iam:GetUser'], [users]);
  s.allow(fns.triage, ['iam:GetRole'], [roles]);
  s.allow(fns.triage, ['iam:GetInstanceProfile'], [s.iam('instance-profile')]);

  s.allow(fns['disable-access-key'], ['iam:ListAccessKeys', 'iam:UpdateAccessKey'], [users]);
  s.allow(
    fns['revoke-sessions'],
    ['iam:GetUser', 'iam:GetUserPolicy', 'iam:PutUserPolicy'],
    [users],
  );
  s.allow(
    fns['revoke-sessions'],
    ['iam:GetRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy'],
    [roles],
  );
  // Defence in depth: whatever triage decides, this role cannot lock out Cordon itself.
  fns['revoke-sessions'].allow(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['iam:PutRolePolicy'],
      resources: [s.iam('role', `${CORDON_ROLE_PATH.slice(1)}*`)],
    }),
  );
  s.allow(
    fns['quarantine-user'],
    [
      'iam:GetUser',
      'iam:GetUserPolicy',
      'iam:PutUserPolicy',
      'iam:GetLoginProfile',
      'iam:DeleteLoginProfile',
    ],
    [users],
  );
}

const TAGGED_BY_INCIDENT = { StringLike: { [`aws:ResourceTag/${INCIDENT_TAG}`]: 'inc-*' } };
const ISOLATION_GROUP = {
  StringEquals: { [`aws:ResourceTag/${ISOLATION_TAG}`]: ['allow-all', 'no-traffic'] },
};
const onlyTagKeys = (...keys: string[]) => ({
  'ForAllValues:StringEquals': { 'aws:TagKeys': keys },
});

function grantEc2Instance(fns: Functions, s: Scoper): void {
  const instances = s.ec2('instance');
  const interfaces = s.ec2('network-interface');
  const volumes = s.ec2('volume');
  const groups = s.ec2('security-group');

  // Reads: EC2 and Auto Scaling Describe calls support no resource-level permissions.
  s.unscoped(fns.triage, ['ec2:DescribeInstances', 'ec2:DescribeIamInstanceProfileAssociations']);
  for (const fn of [
    fns['preserve-evidence'],
    fns['isolate-network'],
    fns['detach-instance-profile'],
    fns['detach-from-asg'],
  ]) {
    s.unscoped(fn, ['ec2:DescribeInstances']);
  }

  // preserve-evidence: tag first (only Cordon's incident tag), then every
  // change is authorised by that tag.
  const evidence = fns['preserve-evidence'];
  s.unscoped(evidence, ['ec2:DescribeSnapshots']);
  s.allow(evidence, ['ec2:DescribeInstanceAttribute'], [instances]);
  s.allow(
    evidence,
    ['ec2:CreateTags'],
    [instances, interfaces, volumes],
    onlyTagKeys(INCIDENT_TAG),
  );
  s.allow(evidence, ['ec2:ModifyInstanceAttribute'], [instances, volumes], TAGGED_BY_INCIDENT);
  s.allow(evidence, ['ec2:CreateSnapshot'], [volumes], TAGGED_BY_INCIDENT);
  s.allow(evidence, ['ec2:CreateSnapshot'], [s.ec2('snapshot', '*', '')], {
    StringLike: { [`aws:RequestTag/${INCIDENT_TAG}`]: 'inc-*' },
  });
  s.allow(evidence, ['ec2:CreateTags'], [s.ec2('snapshot', '*', '')], {
    StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' },
  });

  // isolate-network: may create and edit only Cordon's isolation groups, and
  // attach only those groups, only to interfaces tagged with an incident.
  const isolate = fns['isolate-network'];
  s.unscoped(isolate, ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups']);
  s.allow(isolate, ['ec2:CreateSecurityGroup'], [groups], {
    StringEquals: { [`aws:RequestTag/${ISOLATION_TAG}`]: ['allow-all', 'no-traffic'] },
  });
  s.allow(isolate, ['ec2:CreateSecurityGroup'], [s.ec2('vpc')]);
  s.allow(isolate, ['ec2:CreateTags'], [groups], {
    StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' },
  });
  s.allow(isolate, ['ec2:CreateTags'], [interfaces, instances], {
    ...TAGGED_BY_INCIDENT,
    ...onlyTagKeys(ORIGINAL_GROUPS_TAG),
  });
  s.allow(
    isolate,
    [
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
    ],
    [groups],
    ISOLATION_GROUP,
  );
  s.allow(
    isolate,
    ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress'],
    [s.ec2('security-group-rule')],
  );
  s.allow(
    isolate,
    ['ec2:ModifyNetworkInterfaceAttribute'],
    [interfaces, instances],
    TAGGED_BY_INCIDENT,
  );
  s.allow(isolate, ['ec2:ModifyNetworkInterfaceAttribute'], [groups], ISOLATION_GROUP);
  // Subnets cannot carry Cordon's tag; the interface statement above still gates the call.
  s.allow(isolate, ['ec2:ModifyNetworkInterfaceAttribute'], [s.ec2('subnet')]);

  const profile = fns['detach-instance-profile'];
  s.unscoped(profile, ['ec2:DescribeIamInstanceProfileAssociations']);
  s.allow(profile, ['ec2:DisassociateIamInstanceProfile'], [instances], TAGGED_BY_INCIDENT);

  const asg = fns['detach-from-asg'];
  s.unscoped(asg, [
    'autoscaling:DescribeAutoScalingInstances',
    'autoscaling:DescribeAutoScalingGroups',
  ]);
  s.allow(asg, ['autoscaling:DetachInstances'], [s.autoScalingGroups()]);
}

function grantSecretExposure(
  fns: Functions,
  s: Scoper,
  exemptTag: { readonly key: string; readonly value: string },
): void {
  const secrets = s.secrets();
  s.allow(fns.triage, ['secretsmanager:DescribeSecret'], [secrets]);
  s.allow(
    fns['rotate-secret'],
    [
      'secretsmanager:DescribeSecret',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:RotateSecret',
    ],
    [secrets],
  );
  s.allow(
    fns['lock-secret'],
    [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetResourcePolicy',
      'secretsmanager:PutResourcePolicy',
    ],
    [secrets],
  );
  // Defence in depth: an exempt-tagged secret is never changed, whatever triage decides.
  for (const fn of [fns['rotate-secret'], fns['lock-secret']]) {
    fn.allow(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['secretsmanager:RotateSecret', 'secretsmanager:PutResourcePolicy'],
        resources: [secrets],
        conditions: { StringEquals: { [`aws:ResourceTag/${exemptTag.key}`]: exemptTag.value } },
      }),
    );
  }
}

function grantIntegrationQuarantine(fns: Functions, s: Scoper): void {
  const functions = s.lambdaFunctions();
  // ListTags, not GetFunction's Tags: GetFunction silently omits tags the
  // caller may not list, and the exempt check must never miss one.
  s.allow(fns.triage, ['lambda:GetFunction', 'lambda:ListTags'], [functions]);
  s.allow(
    fns['quarantine-function'],
    // Not GetFunction: its answer carries environment variables and a code URL.
    ['lambda:GetFunctionConcurrency', 'lambda:PutFunctionConcurrency'],
    [functions],
  );
}

/** S3 bucket ARNs carry no account: the condition keeps every call in this one. */
function grantS3Exposure(fns: Functions, s: Scoper): void {
  const inThisAccount = { StringEquals: { 's3:ResourceAccount': Stack.of(fns.triage).account } };
  s.allow(fns.triage, ['s3:GetBucketTagging'], [s.buckets()], inThisAccount);
  s.allow(
    fns['block-public-access'],
    ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
    [s.buckets()],
    inThisAccount,
  );
}

/**
 * Rollback: each action holds the reads its containment holds and the calls
 * that put the recorded before-state back, scoped the same way (this
 * account; EC2 changes only on incident-tagged resources; never Cordon's own
 * roles; never exempt-tagged secrets). rollback-plan only reads the ledger.
 */
function grantRollback(
  fns: Functions,
  s: Scoper,
  exemptTag: { readonly key: string; readonly value: string },
): void {
  const users = s.iam('user');
  const roles = s.iam('role');
  const cordonRoles = s.iam('role', `${CORDON_ROLE_PATH.slice(1)}*`);
  const instances = s.ec2('instance');
  const interfaces = s.ec2('network-interface');

  s.allow(fns['rollback-access-key'], ['iam:ListAccessKeys', 'iam:UpdateAccessKey'], [users]);

  const revocation = fns['rollback-session-revocation'];
  s.allow(
    revocation,
    ['iam:GetUser', 'iam:GetUserPolicy', 'iam:PutUserPolicy', 'iam:DeleteUserPolicy'],
    [users],
  );
  s.allow(
    revocation,
    ['iam:GetRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
    [roles],
  );
  revocation.allow(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
      resources: [cordonRoles],
    }),
  );

  s.allow(
    fns['rollback-user-quarantine'],
    ['iam:GetUser', 'iam:GetUserPolicy', 'iam:GetLoginProfile', 'iam:DeleteUserPolicy'],
    [users],
  );

  // Network: the recorded original groups carry no Cordon tag, so the group
  // side is this account's groups; the interface (and instance) side must
  // carry the incident tag, so only an incident's interfaces change.
  const network = fns['rollback-network-isolation'];
  s.unscoped(network, [
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSecurityGroups',
  ]);
  s.allow(
    network,
    ['ec2:ModifyNetworkInterfaceAttribute'],
    [interfaces, instances],
    TAGGED_BY_INCIDENT,
  );
  s.allow(
    network,
    ['ec2:ModifyNetworkInterfaceAttribute'],
    [s.ec2('security-group'), s.ec2('subnet')],
  );

  // Instance profile: only incident-tagged instances; passing a role only to
  // EC2 and never one of Cordon's own.
  const profile = fns['rollback-instance-profile'];
  s.unscoped(profile, ['ec2:DescribeInstances', 'ec2:DescribeIamInstanceProfileAssociations']);
  s.allow(
    profile,
    ['ec2:AssociateIamInstanceProfile', 'ec2:ReplaceIamInstanceProfileAssociation'],
    [instances],
    TAGGED_BY_INCIDENT,
  );
  s.allow(profile, ['iam:PassRole'], [roles], {
    StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
  });
  profile.allow(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['iam:PassRole'],
      resources: [cordonRoles],
    }),
  );

  const asg = fns['rollback-asg-detach'];
  s.unscoped(asg, [
    'ec2:DescribeInstances',
    'autoscaling:DescribeAutoScalingInstances',
    'autoscaling:DescribeAutoScalingGroups',
  ]);
  s.allow(asg, ['autoscaling:AttachInstances'], [s.autoScalingGroups()]);

  const secrets = s.secrets();
  const lock = fns['rollback-secret-lock'];
  s.allow(
    lock,
    [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetResourcePolicy',
      'secretsmanager:PutResourcePolicy',
      'secretsmanager:DeleteResourcePolicy',
    ],
    [secrets],
  );
  lock.allow(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'],
      resources: [secrets],
      conditions: { StringEquals: { [`aws:ResourceTag/${exemptTag.key}`]: exemptTag.value } },
    }),
  );

  s.allow(
    fns['rollback-function-quarantine'],
    [
      'lambda:GetFunctionConcurrency',
      'lambda:PutFunctionConcurrency',
      'lambda:DeleteFunctionConcurrency',
    ],
    [s.lambdaFunctions()],
  );

  // DeletePublicAccessBlock is authorised as s3:PutBucketPublicAccessBlock.
  s.allow(
    fns['rollback-public-access'],
    ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
    [s.buckets()],
    { StringEquals: { 's3:ResourceAccount': Stack.of(fns.triage).account } },
  );
}

/** Builds this account's ARNs and acknowledges the `*` in each for cdk-nag. */
class Scoper {
  constructor(private readonly stack: Stack) {}

  allow(
    fn: ActionFunction,
    actions: string[],
    resources: string[],
    conditions?: Record<string, unknown>,
  ) {
    if (resources.includes('*')) {
      throw new Error(`${fn.action}: Resource "*" is granted with unscoped(), from the manifest`);
    }
    fn.allow(
      new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }),
    );
    for (const resource of resources) {
      if (!resource.endsWith('*')) continue;
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${this.nagForm(resource)}]`,
        reason: conditions
          ? 'The target is only known at run time, from a validated finding; scoped to this account and gated by the conditions on Cordon tags'
          : 'The target is only known at run time, from a validated finding; scoped to this account',
      });
    }
  }

  /**
   * Calls that support no resource-level permissions. Each must be declared,
   * with its reason, in the function's manifest (`UNSCOPED`), which is what
   * the role's cdk-nag acknowledgement quotes (ActionFunction).
   */
  unscoped(fn: ActionFunction, actions: string[]) {
    const declared = declaredUnscoped(fn.action);
    const undeclared = actions.filter((a) => !Object.hasOwn(declared, a));
    if (undeclared.length > 0) {
      throw new Error(
        `${fn.action}: ${undeclared.join(', ')} granted on Resource "*" but not declared in UNSCOPED of functions/${fn.action}/iam.ts`,
      );
    }
    fn.allow(new iam.PolicyStatement({ actions, resources: ['*'] }));
  }

  iam(resource: string, name = '*'): string {
    return this.stack.formatArn({
      service: 'iam',
      region: '',
      resource,
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  ec2(resource: string, name = '*', account?: string): string {
    return this.stack.formatArn({
      service: 'ec2',
      resource,
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      ...(account !== undefined ? { account } : {}),
    });
  }

  autoScalingGroups(): string {
    return this.stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: '*:autoScalingGroupName/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  secrets(): string {
    return this.stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  lambdaFunctions(): string {
    return this.stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  buckets(): string {
    return this.stack.formatArn({ service: 's3', region: '', account: '', resource: '*' });
  }

  securityHubHub(): string {
    return this.stack.formatArn({
      service: 'securityhub',
      resource: 'hub',
      resourceName: 'default',
    });
  }

  /** The resource as cdk-nag names it in a finding id: intrinsics as `<Ref>`. */
  private nagForm(arn: string): string {
    const render = (value: unknown): string => {
      if (typeof value === 'string') return value;
      if (value && typeof value === 'object') {
        const [key, arg] = Object.entries(value)[0] ?? [];
        if (key === 'Ref' && typeof arg === 'string') return `<${arg}>`;
        if (key === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
          return arg[1].map(render).join(String(arg[0]));
        }
      }
      return JSON.stringify(value);
    };
    return render(this.stack.resolve(arn));
  }
}
