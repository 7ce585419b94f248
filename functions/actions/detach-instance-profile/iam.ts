import { TAGGED_BY_INCIDENT } from '../../shared/ec2-tags.js';
import { type ActionIam, allow, anywhere, DESCRIBE_REASON } from '../../shared/iam.js';

/**
 * Disassociate, and associate again, only on incident-tagged instances; the
 * rollback passes a role only to EC2, only for this account's instances in
 * this region, and never one of Cordon's own or a break-glass role (its
 * fences deny those by exact ARN).
 */
export const iam = {
  containment: {
    statements: (ctx) => [
      // Reads: EC2 Describe calls support no resource-level permissions.
      // Interfaces too: the isolate step's gate reads their incident tags.
      anywhere(['ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces']),
      anywhere(['ec2:DescribeIamInstanceProfileAssociations']),
      allow(['ec2:DisassociateIamInstanceProfile'], [ctx.arn.ec2('instance')], TAGGED_BY_INCIDENT),
    ],
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'ec2:DescribeNetworkInterfaces': DESCRIBE_REASON,
      'ec2:DescribeIamInstanceProfileAssociations': DESCRIBE_REASON,
    },
  },
  rollback: {
    statements: (ctx) => [
      anywhere(['ec2:DescribeInstances', 'ec2:DescribeIamInstanceProfileAssociations']),
      allow(
        ['ec2:AssociateIamInstanceProfile', 'ec2:ReplaceIamInstanceProfileAssociation'],
        [ctx.arn.ec2('instance')],
        TAGGED_BY_INCIDENT,
      ),
      // Associating a profile passes its role to EC2 (no SDK command of its
      // own): only to EC2, and only for an instance of this account and region
      // (iam:AssociatedResourceArn is the instance the role is passed for).
      allow(['iam:PassRole'], [ctx.arn.iam('role')], {
        StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        ArnLike: { 'iam:AssociatedResourceArn': ctx.arn.ec2('instance') },
      }),
    ],
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'ec2:DescribeIamInstanceProfileAssociations': DESCRIBE_REASON,
    },
  },
} satisfies ActionIam;
