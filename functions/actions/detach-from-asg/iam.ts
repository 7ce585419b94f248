import { type ActionIam, allow, anywhere, DESCRIBE_REASON } from '../../shared/iam.js';

/** Detach from, and attach back to, this account's Auto Scaling groups. */
export const iam = {
  containment: {
    statements: (ctx) => [
      // Reads: EC2 and Auto Scaling Describe calls support no resource-level permissions.
      // Interfaces too: the isolate step's gate reads their incident tags.
      anywhere(['ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces']),
      anywhere([
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeAutoScalingGroups',
      ]),
      allow(['autoscaling:DetachInstances'], [ctx.arn.autoScalingGroups()]),
    ],
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'ec2:DescribeNetworkInterfaces': DESCRIBE_REASON,
      'autoscaling:DescribeAutoScalingInstances': DESCRIBE_REASON,
      'autoscaling:DescribeAutoScalingGroups': DESCRIBE_REASON,
    },
  },
  rollback: {
    statements: (ctx) => [
      anywhere([
        'ec2:DescribeInstances',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeAutoScalingGroups',
      ]),
      // The protection the instance had when it left: IAM scopes
      // SetInstanceProtection to the group only (no instance condition).
      allow(
        ['autoscaling:AttachInstances', 'autoscaling:SetInstanceProtection'],
        [ctx.arn.autoScalingGroups()],
      ),
    ],
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'autoscaling:DescribeAutoScalingInstances': DESCRIBE_REASON,
      'autoscaling:DescribeAutoScalingGroups': DESCRIBE_REASON,
    },
  },
} satisfies ActionIam;
