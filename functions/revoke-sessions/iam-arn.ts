/**
 * The parts of an IAM user or role ARN:
 * `arn:<partition>:iam::<account>:<user|role>/<optional/path/><name>`.
 * The name is the last path segment; a path may hold any printable ASCII.
 * Anything else (an STS assumed-role ARN, another service) is not parsed.
 */
export interface IamArn {
  readonly partition: string;
  readonly account: string;
  readonly resourceType: 'user' | 'role';
  /** `/` or `/path/to/`. */
  readonly path: string;
  readonly name: string;
}

const IAM_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso(?:-[a-z])?):iam::(\d{12}):(user|role)(\/(?:[!-~]*\/)?)([\w+=,.@-]{1,64})$/;

export function parseIamArn(arn: string): IamArn | undefined {
  const match = IAM_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, account, resourceType, path, name] = match;
  if (
    partition === undefined ||
    account === undefined ||
    (resourceType !== 'user' && resourceType !== 'role') ||
    path === undefined ||
    name === undefined
  ) {
    return undefined;
  }
  return { partition, account, resourceType, path, name };
}
