import { blockPublicAccess } from '../../../functions/actions/block-public-access/containment.js';
import { rollbackPublicAccess } from '../../../functions/actions/block-public-access/rollback.js';
import { detachFromAsg } from '../../../functions/actions/detach-from-asg/containment.js';
import { rollbackAsgDetach } from '../../../functions/actions/detach-from-asg/rollback.js';
import { detachInstanceProfile } from '../../../functions/actions/detach-instance-profile/containment.js';
import { rollbackInstanceProfile } from '../../../functions/actions/detach-instance-profile/rollback.js';
import { disableAccessKey } from '../../../functions/actions/disable-access-key/containment.js';
import { rollbackAccessKey } from '../../../functions/actions/disable-access-key/rollback.js';
import { isolateNetwork } from '../../../functions/actions/isolate-network/containment.js';
import { rollbackNetworkIsolation } from '../../../functions/actions/isolate-network/rollback.js';
import { lockSecret } from '../../../functions/actions/lock-secret/containment.js';
import { rollbackSecretLock } from '../../../functions/actions/lock-secret/rollback.js';
import { preserveEvidence } from '../../../functions/actions/preserve-evidence/containment.js';
import { rollbackEvidence } from '../../../functions/actions/preserve-evidence/rollback.js';
import { quarantineFunction } from '../../../functions/actions/quarantine-function/containment.js';
import { rollbackFunctionQuarantine } from '../../../functions/actions/quarantine-function/rollback.js';
import { quarantineUser } from '../../../functions/actions/quarantine-user/containment.js';
import { rollbackUserQuarantine } from '../../../functions/actions/quarantine-user/rollback.js';
import { revokeSessions } from '../../../functions/actions/revoke-sessions/containment.js';
import { rollbackSessionRevocation } from '../../../functions/actions/revoke-sessions/rollback.js';
import { rotateSecret } from '../../../functions/actions/rotate-secret/containment.js';
import { INCIDENT_TAG } from '../../../functions/shared/ec2-tags.js';
import type { Incident } from '../../../functions/shared/incident.js';
import {
  ACCOUNT,
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  bucketIncident,
  ec2Incident,
  GUARDS,
  INSTANCE_ID,
  INSTANCE_PROFILE_ARN,
  incident,
  KEY_ID,
  lambdaIncident,
  OTHER_KEY_ID,
  roleIncident,
  secretIncident,
  VPC_ID,
} from '../shared/containment-fixtures.js';
import { ROLLBACK_ACTOR } from '../shared/rollback-fixtures.js';
import type { Faults } from './faults.js';
import type { ContainmentRow, RollbackRow } from './suite.js';
import {
  clients,
  type Ec2World,
  ec2World,
  iamWorld,
  lambdaWorld,
  s3World,
  secretsWorld,
} from './worlds.js';

/**
 * One row per containment action and per rollback action: its step and
 * input, a world in which it has something to do, and which of its commands
 * read and which write.
 */

/** The clock of revoke-sessions: after the finding's last update. */
const NOW = new Date('2026-03-01T10:10:00.000Z');

/** The input of a step, approved when its mode needs it. */
function input(step: string, of: Incident) {
  const mode = of.plan[step]?.mode;
  return actionInput(step, {
    incident: of,
    ...(mode === 'approve' ? { approval: approved(step) } : {}),
  });
}

const alice = (f: Faults) =>
  iamWorld(f, {
    users: {
      alice: {
        keys: { [KEY_ID]: 'Active', [OTHER_KEY_ID]: 'Active' },
        policies: {},
        attached: [],
        login: true,
      },
    },
    roles: { 'app-role': { policies: {} } },
  });

const APP_GROUP = 'sg-0aaa0000000000001';
const WEB_GROUP = 'sg-0aaa0000000000002';

/** A running instance in an Auto Scaling group, with two volumes, two interfaces and a profile. */
const instance = (f: Faults): Ec2World =>
  ec2World(f, {
    instanceId: INSTANCE_ID,
    vpcId: VPC_ID,
    rootDeviceType: 'ebs',
    disableApiTermination: false,
    shutdownBehavior: 'terminate',
    volumes: [
      { deviceName: '/dev/xvda', volumeId: 'vol-0aaa00000000000a1', deleteOnTermination: true },
      { deviceName: '/dev/xvdf', volumeId: 'vol-0aaa00000000000a2', deleteOnTermination: false },
    ],
    interfaces: {
      'eni-0aaa000000000000b1': { groups: [APP_GROUP, WEB_GROUP] },
      'eni-0aaa000000000000b2': { groups: [APP_GROUP] },
    },
    securityGroups: {
      [APP_GROUP]: { name: 'app', ingress: [], egress: [] },
      [WEB_GROUP]: { name: 'web', ingress: [], egress: [] },
    },
    snapshots: [],
    tags: {},
    association: { associationId: 'iip-assoc-0aaa0000000000001', profileArn: INSTANCE_PROFILE_ARN },
    asg: {
      group: 'web-asg',
      lifecycleState: 'InService',
      protectedFromScaleIn: false,
      desiredCapacity: 3,
      minSize: 1,
      maxSize: 5,
    },
    nextId: 1,
  });

const EC2 = ec2Incident();

/** The instance as preserve-evidence leaves it: it and its interfaces carry the incident tag. */
const taggedInstance = (f: Faults): Ec2World => {
  const world = instance(f);
  for (const id of [world.instanceId, ...Object.keys(world.interfaces)]) {
    world.tags[id] = { [INCIDENT_TAG]: EC2.incidentId };
  }
  return world;
};
const SECRET = secretIncident();
const UNROTATED_SECRET = secretIncident({}, { rotationEnabled: false });
const OWNER_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'OwnerReads',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/payments` },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
    },
  ],
});

const secret = (f: Faults, rotationEnabled: boolean) =>
  secretsWorld(f, {
    rotationEnabled,
    versions: [
      { versionId: 'v1', created: new Date('2025-01-01T00:00:00.000Z'), stages: ['AWSCURRENT'] },
    ],
    policy: OWNER_POLICY,
    rotatedAt: new Date('2026-03-01T10:09:00.000Z'),
  });

export const DISABLE_ACCESS_KEY: ContainmentRow = {
  name: 'disable-access-key',
  step: 'disableAccessKey',
  setup: alice,
  run: (ledger) =>
    disableAccessKey(input('disableAccessKey', incident()), {
      iam: clients.iam,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
      guards: GUARDS,
    }),
  reads: ['GetUser', 'ListAccessKeys'],
  writes: ['UpdateAccessKey'],
};

export const REVOKE_USER_SESSIONS: ContainmentRow = {
  name: 'revoke-sessions (user)',
  step: 'revokeUserSessions',
  setup: alice,
  run: (ledger) =>
    revokeSessions(input('revokeUserSessions', incident()), {
      iam: clients.iam,
      now: () => NOW,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
      guards: GUARDS,
    }),
  reads: ['GetUser', 'GetUserPolicy'],
  writes: ['PutUserPolicy'],
};

export const REVOKE_ROLE_SESSIONS: ContainmentRow = {
  name: 'revoke-sessions (role)',
  step: 'revokeRoleSessions',
  setup: alice,
  run: (ledger) =>
    revokeSessions(input('revokeRoleSessions', roleIncident()), {
      iam: clients.iam,
      now: () => NOW,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
      guards: GUARDS,
    }),
  reads: ['GetRole', 'GetRolePolicy'],
  writes: ['PutRolePolicy'],
};

export const QUARANTINE_USER: ContainmentRow = {
  name: 'quarantine-user',
  step: 'quarantineUser',
  setup: alice,
  run: (ledger) =>
    quarantineUser(input('quarantineUser', incident()), {
      iam: clients.iam,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
      guards: GUARDS,
    }),
  reads: ['GetUser', 'ListAttachedUserPolicies', 'GetUserPolicy', 'GetLoginProfile'],
  writes: ['AttachUserPolicy', 'DeleteLoginProfile'],
};

export const PRESERVE_EVIDENCE: ContainmentRow = {
  name: 'preserve-evidence',
  step: 'preserveEvidence',
  setup: instance,
  run: (ledger) =>
    preserveEvidence(input('preserveEvidence', EC2), {
      ec2: clients.ec2,
      autoScaling: clients.autoScaling,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    }),
  reads: [
    'DescribeInstances',
    'DescribeInstanceAttribute',
    'DescribeSnapshots',
    'DescribeAutoScalingInstances',
  ],
  writes: ['CreateSnapshot', 'CreateTags', 'ModifyInstanceAttribute', 'SetInstanceProtection'],
  // The incident tag is written again while a volume still lacks its snapshot
  // (a volume attached since carries no tag yet): same tag, same value.
  idempotentWrites: ['CreateTags'],
};

export const DETACH_FROM_ASG: ContainmentRow = {
  name: 'detach-from-asg',
  step: 'isolate',
  setup: taggedInstance,
  run: (ledger) =>
    detachFromAsg(input('isolate', EC2), {
      ec2: clients.ec2,
      autoScaling: clients.autoScaling,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    }),
  reads: [
    'DescribeAutoScalingInstances',
    'DescribeInstances',
    'DescribeAutoScalingGroups',
    'DescribeNetworkInterfaces',
  ],
  writes: ['DetachInstances'],
};

export const ISOLATE_NETWORK: ContainmentRow = {
  name: 'isolate-network',
  step: 'isolate',
  setup: taggedInstance,
  run: (ledger) =>
    isolateNetwork(input('isolate', EC2), {
      ec2: clients.ec2,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    }),
  reads: ['DescribeNetworkInterfaces', 'DescribeInstances', 'DescribeSecurityGroups'],
  writes: [
    'ModifyNetworkInterfaceAttribute',
    'CreateSecurityGroup',
    'AuthorizeSecurityGroupIngress',
    'AuthorizeSecurityGroupEgress',
    'RevokeSecurityGroupEgress',
    'CreateTags',
  ],
};

export const DETACH_INSTANCE_PROFILE: ContainmentRow = {
  name: 'detach-instance-profile',
  step: 'isolate',
  setup: taggedInstance,
  run: (ledger) =>
    detachInstanceProfile(input('isolate', EC2), {
      ec2: clients.ec2,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    }),
  reads: [
    'DescribeIamInstanceProfileAssociations',
    'DescribeInstances',
    'DescribeNetworkInterfaces',
  ],
  writes: ['DisassociateIamInstanceProfile'],
};

export const ROTATE_SECRET: ContainmentRow = {
  name: 'rotate-secret',
  step: 'rotateSecret',
  setup: (f) => secret(f, true),
  // Called again after each Cordon.RotationPending, as the state machine's
  // retrier does: two rotations pass the exposed version by.
  run: async (ledger) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await rotateSecret(input('rotateSecret', SECRET), {
          secrets: clients.secrets,
          ledger,
          actor: ACTOR,
          approvals: APPROVALS,
        });
      } catch (error) {
        if (!(error instanceof Error && error.name === 'Cordon.RotationPending') || attempt >= 5) {
          throw error;
        }
      }
    }
  },
  reads: ['DescribeSecret'],
  writes: ['RotateSecret'],
};

export const LOCK_SECRET: ContainmentRow = {
  name: 'lock-secret',
  step: 'lockSecret',
  setup: (f) => secret(f, false),
  run: (ledger) =>
    lockSecret(input('lockSecret', UNROTATED_SECRET), {
      secrets: clients.secrets,
      breakGlass: [`arn:aws:iam::${ACCOUNT}:role/BreakGlass`],
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    }),
  reads: ['GetResourcePolicy', 'DescribeSecret'],
  writes: ['PutResourcePolicy'],
};

export const QUARANTINE_FUNCTION: ContainmentRow = {
  name: 'quarantine-function',
  step: 'stopInvocations',
  setup: (f) => lambdaWorld(f, { reserved: 10 }),
  run: (ledger) =>
    quarantineFunction(input('stopInvocations', lambdaIncident()), {
      lambda: clients.lambda,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    }),
  reads: ['GetFunctionConcurrency'],
  writes: ['PutFunctionConcurrency'],
};

export const BLOCK_PUBLIC_ACCESS: ContainmentRow = {
  name: 'block-public-access',
  step: 'blockPublicAccess',
  setup: (f) => s3World(f, { block: null }),
  run: (ledger) =>
    blockPublicAccess(input('blockPublicAccess', bucketIncident()), {
      s3: clients.s3,
      ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    }),
  reads: ['GetPublicAccessBlock'],
  writes: ['PutPublicAccessBlock'],
};

export const CONTAINMENT_ROWS: readonly ContainmentRow[] = [
  DISABLE_ACCESS_KEY,
  REVOKE_USER_SESSIONS,
  REVOKE_ROLE_SESSIONS,
  QUARANTINE_USER,
  PRESERVE_EVIDENCE,
  DETACH_FROM_ASG,
  ISOLATE_NETWORK,
  DETACH_INSTANCE_PROFILE,
  ROTATE_SECRET,
  LOCK_SECRET,
  QUARANTINE_FUNCTION,
  BLOCK_PUBLIC_ACCESS,
];

const rollbackDeps = <T extends object>(clientsOf: T, ledger: RollbackLedger) => ({
  ...clientsOf,
  ledger,
  actor: ROLLBACK_ACTOR,
  approvals: APPROVALS,
});
type RollbackLedger = Parameters<RollbackRow['run']>[1];

export const ROLLBACK_ROWS: readonly RollbackRow[] = [
  {
    name: 'rollback-disable-access-key',
    contained: DISABLE_ACCESS_KEY,
    run: (i, ledger) => rollbackAccessKey(i, rollbackDeps({ iam: clients.iam }, ledger)),
    reads: ['ListAccessKeys'],
    writes: ['UpdateAccessKey'],
  },
  {
    name: 'rollback-revoke-sessions',
    contained: REVOKE_USER_SESSIONS,
    run: (i, ledger) => rollbackSessionRevocation(i, rollbackDeps({ iam: clients.iam }, ledger)),
    reads: ['GetUser', 'GetUserPolicy'],
    writes: ['DeleteUserPolicy'],
  },
  {
    name: 'rollback-quarantine-user',
    contained: QUARANTINE_USER,
    run: (i, ledger) => rollbackUserQuarantine(i, rollbackDeps({ iam: clients.iam }, ledger)),
    reads: ['GetUser', 'ListAttachedUserPolicies', 'GetUserPolicy', 'GetLoginProfile'],
    writes: ['DetachUserPolicy'],
  },
  {
    name: 'rollback-preserve-evidence',
    contained: PRESERVE_EVIDENCE,
    run: (i, ledger) =>
      rollbackEvidence(
        i,
        rollbackDeps({ ec2: clients.ec2, autoScaling: clients.autoScaling }, ledger),
      ),
    reads: ['DescribeInstances', 'DescribeAutoScalingInstances'],
    writes: ['SetInstanceProtection'],
  },
  {
    name: 'rollback-detach-from-asg',
    contained: DETACH_FROM_ASG,
    run: (i, ledger) =>
      rollbackAsgDetach(
        i,
        rollbackDeps({ ec2: clients.ec2, autoScaling: clients.autoScaling }, ledger),
      ),
    reads: ['DescribeAutoScalingInstances', 'DescribeInstances'],
    writes: ['AttachInstances'],
  },
  {
    name: 'rollback-isolate-network',
    contained: ISOLATE_NETWORK,
    run: (i, ledger) => rollbackNetworkIsolation(i, rollbackDeps({ ec2: clients.ec2 }, ledger)),
    reads: ['DescribeNetworkInterfaces', 'DescribeInstances', 'DescribeSecurityGroups'],
    writes: ['ModifyNetworkInterfaceAttribute'],
  },
  {
    name: 'rollback-detach-instance-profile',
    contained: DETACH_INSTANCE_PROFILE,
    run: (i, ledger) => rollbackInstanceProfile(i, rollbackDeps({ ec2: clients.ec2 }, ledger)),
    reads: ['DescribeIamInstanceProfileAssociations', 'DescribeInstances'],
    writes: ['AssociateIamInstanceProfile'],
  },
  {
    name: 'rollback-lock-secret',
    contained: LOCK_SECRET,
    run: (i, ledger) => rollbackSecretLock(i, rollbackDeps({ secrets: clients.secrets }, ledger)),
    reads: ['GetResourcePolicy', 'DescribeSecret'],
    writes: ['PutResourcePolicy'],
  },
  {
    name: 'rollback-quarantine-function',
    contained: QUARANTINE_FUNCTION,
    run: (i, ledger) =>
      rollbackFunctionQuarantine(i, rollbackDeps({ lambda: clients.lambda }, ledger)),
    reads: ['GetFunctionConcurrency'],
    writes: ['PutFunctionConcurrency'],
  },
  {
    name: 'rollback-block-public-access',
    contained: BLOCK_PUBLIC_ACCESS,
    run: (i, ledger) => rollbackPublicAccess(i, rollbackDeps({ s3: clients.s3 }, ledger)),
    reads: ['GetPublicAccessBlock'],
    writes: ['DeletePublicAccessBlock'],
  },
];
