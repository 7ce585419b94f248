import { INCIDENT_TAG, onlyTagKeys, TAGGED_BY_INCIDENT } from '../../shared/ec2-tags.js';
import { type ActionIam, allow, anywhere, DESCRIBE_REASON } from '../../shared/iam.js';

/**
 * Tag first (only Cordon's incident tag), then every change is authorised by
 * that tag. No rollback: the evidence is kept.
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
        allow(['ec2:ModifyInstanceAttribute'], [instances, volumes], TAGGED_BY_INCIDENT),
        allow(['ec2:CreateSnapshot'], [volumes], TAGGED_BY_INCIDENT),
        allow(['ec2:CreateSnapshot'], [snapshots], {
          StringLike: { [`aws:RequestTag/${INCIDENT_TAG}`]: 'inc-*' },
        }),
        allow(['ec2:CreateTags'], [snapshots], {
          StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' },
        }),
      ];
    },
    unscoped: {
      'ec2:DescribeInstances': DESCRIBE_REASON,
      'ec2:DescribeSnapshots': DESCRIBE_REASON,
    },
  },
} satisfies ActionIam;
