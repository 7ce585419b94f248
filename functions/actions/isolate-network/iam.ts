import {
  ISOLATION_TAG,
  ORIGINAL_GROUPS_TAG,
  onlyTagKeys,
  TAGGED_BY_INCIDENT,
} from '../../shared/ec2-tags.js';
import { type ActionIam, allow, anywhere, DESCRIBE_REASON } from '../../shared/iam.js';

/** IAM condition: the security group is one of Cordon's isolation groups. */
const ISOLATION_GROUP = {
  StringEquals: { [`aws:ResourceTag/${ISOLATION_TAG}`]: ['allow-all', 'no-traffic'] },
};

/**
 * Isolation may create and edit only Cordon's isolation groups, and attach
 * only those groups, only to interfaces tagged with an incident. Its rollback
 * puts the recorded original groups back, on those interfaces only.
 */
export const iam = {
  containment: {
    statements: (ctx) => {
      const instances = ctx.arn.ec2('instance');
      const interfaces = ctx.arn.ec2('network-interface');
      const groups = ctx.arn.ec2('security-group');
      return [
        // Reads: EC2 Describe calls support no resource-level permissions.
        anywhere(['ec2:DescribeInstances']),
        anywhere(['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups']),
        allow(['ec2:CreateSecurityGroup'], [groups], {
          StringEquals: { [`aws:RequestTag/${ISOLATION_TAG}`]: ['allow-all', 'no-traffic'] },
        }),
        allow(['ec2:CreateSecurityGroup'], [ctx.arn.ec2('vpc')]),
        allow(['ec2:CreateTags'], [groups], {
          StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' },
        }),
        allow(['ec2:CreateTags'], [interfaces, instances], {
          ...TAGGED_BY_INCIDENT,
          ...onlyTagKeys(ORIGINAL_GROUPS_TAG),
        }),
        allow(
          [
            'ec2:AuthorizeSecurityGroupIngress',
            'ec2:AuthorizeSecurityGroupEgress',
            'ec2:RevokeSecurityGroupIngress',
            'ec2:RevokeSecurityGroupEgress',
          ],
          [groups],
          ISOLATION_GROUP,
        ),
        allow(
          ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress'],
          [ctx.arn.ec2('security-group-rule')],
        ),
        allow(['ec2:ModifyNetworkInterfaceAttribute'], [interfaces, instances], TAGGED_BY_INCIDENT),
        allow(['ec2:ModifyNetworkInterfaceAttribute'], [groups], ISOLATION_GROUP),
        // Subnets cannot carry Cordon's tag; the interface statement above still gates the call.
        allow(['ec2:ModifyNetworkInterfaceAttribute'], [ctx.arn.ec2('subnet')]),
      ];
    },
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'ec2:DescribeNetworkInterfaces': DESCRIBE_REASON,
      'ec2:DescribeSecurityGroups': DESCRIBE_REASON,
    },
  },
  rollback: {
    // The recorded original groups carry no Cordon tag, so the group side is
    // this account's groups; the interface (and instance) side must carry the
    // incident tag, so only an incident's interfaces change.
    statements: (ctx) => [
      anywhere([
        'ec2:DescribeInstances',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
      ]),
      allow(
        ['ec2:ModifyNetworkInterfaceAttribute'],
        [ctx.arn.ec2('network-interface'), ctx.arn.ec2('instance')],
        TAGGED_BY_INCIDENT,
      ),
      allow(
        ['ec2:ModifyNetworkInterfaceAttribute'],
        [ctx.arn.ec2('security-group'), ctx.arn.ec2('subnet')],
      ),
    ],
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'ec2:DescribeNetworkInterfaces': DESCRIBE_REASON,
      'ec2:DescribeSecurityGroups': DESCRIBE_REASON,
    },
  },
} satisfies ActionIam;
