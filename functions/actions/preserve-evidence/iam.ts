import { INCIDENT_TAG, onlyTagKeys, TAGGED_BY_INCIDENT } from '../../shared/ec2-tags.js';
import {
  type ActionIam,
  allow,
  anywhere,
  DESCRIBE_REASON,
  type IamContext,
} from '../../shared/iam.js';

/**
 * The three instance attributes preserve-evidence sets, and nothing else
 * (not userData, instanceType, sourceDestCheck, groups, ...): the incident
 * tag only says which instances Cordon may touch, and the contained
 * instance's own role can often write it.
 *
 * `ec2:Attribute` is the attribute a ModifyInstanceAttribute request sets.
 * Sent as preserve-evidence sends them (one structured parameter per call,
 * as EC2 requires), IAM names them by the request's parameter names:
 * `DisableApiTermination` and `InstanceInitiatedShutdownBehavior` (AWS's
 * authorization context for these two calls says so), and the block device
 * mappings by their parameter, `BlockDeviceMapping` on the wire and
 * `BlockDeviceMappings` in the SDK: both are listed, as they name the same
 * attribute. StringEquals needs the key: a request without it gets nothing.
 * `ec2:Attribute/<name>` holds the value of the two single-valued ones, so
 * this role can only turn termination protection on and make a shutdown
 * stop, never the reverse; the mappings' value has no key (AWS documents the
 * keys for single-value attributes only).
 */
export const ONLY_EVIDENCE_ATTRIBUTES = {
  StringEquals: {
    'ec2:Attribute': [
      'DisableApiTermination',
      'InstanceInitiatedShutdownBehavior',
      'BlockDeviceMapping',
      'BlockDeviceMappings',
    ],
  },
  StringEqualsIfExists: {
    'ec2:Attribute/DisableApiTermination': 'true',
    'ec2:Attribute/InstanceInitiatedShutdownBehavior': 'stop',
  },
};

/**
 * Auto Scaling calls: which group the instance is in and its protection,
 * and SetInstanceProtection. IAM authorises SetInstanceProtection on the
 * group alone (its only resource type; its condition keys are the group's
 * tags), so no condition can name the instance or its incident tag, nor the
 * value set: the role may change the protection of any instance of any
 * group in this account and region. The harm is bounded: protection
 * changes which instances a scale-in picks, never which exist.
 */
const scaleIn = (ctx: IamContext) => [
  // Reads: Auto Scaling Describe calls support no resource-level permissions.
  anywhere(['autoscaling:DescribeAutoScalingInstances']),
  allow(['autoscaling:SetInstanceProtection'], [ctx.arn.autoScalingGroups()]),
];

/**
 * Tag first (only Cordon's incident tag), then every change is authorised by
 * that tag, and an instance change only for the attributes it keeps
 * evidence with. The rollback only puts the scale-in protection back: the
 * evidence is kept.
 */
export const iam = {
  containment: {
    statements: (ctx) => {
      const instances = ctx.arn.ec2('instance');
      const interfaces = ctx.arn.ec2('network-interface');
      const volumes = ctx.arn.ec2('volume');
      const snapshots = ctx.arn.ec2('snapshot', { account: '' });
      return [
        // Reads: EC2 Describe calls support no resource-level permissions.
        anywhere(['ec2:DescribeInstances']),
        anywhere(['ec2:DescribeSnapshots']),
        allow(['ec2:DescribeInstanceAttribute'], [instances]),
        allow(['ec2:CreateTags'], [instances, interfaces, volumes], onlyTagKeys(INCIDENT_TAG)),
        allow(['ec2:ModifyInstanceAttribute'], [instances], {
          ...TAGGED_BY_INCIDENT,
          ...ONLY_EVIDENCE_ATTRIBUTES,
        }),
        // Volumes are an optional resource of the call: the instance statement
        // above, which the call always needs, is what limits the attribute.
        allow(['ec2:ModifyInstanceAttribute'], [volumes], TAGGED_BY_INCIDENT),
        allow(['ec2:CreateSnapshot'], [volumes], TAGGED_BY_INCIDENT),
        allow(['ec2:CreateSnapshot'], [snapshots], {
          StringLike: { [`aws:RequestTag/${INCIDENT_TAG}`]: 'inc-*' },
        }),
        allow(['ec2:CreateTags'], [snapshots], {
          StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' },
        }),
        ...scaleIn(ctx),
      ];
    },
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'ec2:DescribeSnapshots': DESCRIBE_REASON,
      'autoscaling:DescribeAutoScalingInstances': DESCRIBE_REASON,
    },
  },
  rollback: {
    statements: (ctx) => [anywhere(['ec2:DescribeInstances']), ...scaleIn(ctx)],
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'autoscaling:DescribeAutoScalingInstances': DESCRIBE_REASON,
    },
  },
} satisfies ActionIam;
