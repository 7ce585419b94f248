import { ArnFormat, type Stack } from 'aws-cdk-lib';
import type { Arns } from '../functions/shared/iam.js';

/**
 * The ARNs role declarations name (functions/shared/iam.ts), in the stack's
 * account and region: `*` wherever a declaration gives no name, since
 * containment targets are known only at run time. Given a region, the
 * regional ones name it instead of the stack's (a member account's spoke
 * roles name each region the hub acts in: infra/regional.ts).
 */
export class StackArns implements Arns {
  private readonly region: { readonly region?: string };

  constructor(
    private readonly stack: Stack,
    region?: string,
  ) {
    this.region = region === undefined ? {} : { region };
  }

  iam(resource: 'user' | 'role' | 'instance-profile', name = '*'): string {
    return this.stack.formatArn({
      service: 'iam',
      region: '',
      resource,
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  awsManagedPolicy(name: string): string {
    return this.stack.formatArn({
      service: 'iam',
      region: '',
      account: 'aws',
      resource: 'policy',
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  ec2(resource: string, options: { readonly account?: string } = {}): string {
    return this.stack.formatArn({
      service: 'ec2',
      ...this.region,
      resource,
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      ...(options.account !== undefined ? { account: options.account } : {}),
    });
  }

  autoScalingGroups(): string {
    return this.stack.formatArn({
      service: 'autoscaling',
      ...this.region,
      resource: 'autoScalingGroup',
      resourceName: '*:autoScalingGroupName/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  secrets(): string {
    return this.stack.formatArn({
      service: 'secretsmanager',
      ...this.region,
      resource: 'secret',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  lambdaFunctions(): string {
    return this.stack.formatArn({
      service: 'lambda',
      ...this.region,
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
      ...this.region,
      resource: 'hub',
      resourceName: 'default',
    });
  }

  securityHubHubV2(): string {
    return this.stack.formatArn({
      service: 'securityhub',
      ...this.region,
      resource: 'hubv2',
      resourceName: '*',
    });
  }
}
