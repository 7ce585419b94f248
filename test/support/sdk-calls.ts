/**
 * What a function's code can send to AWS, read from its source: the SDK
 * commands imported by its handler and by every file reached from it through
 * value (not type-only) relative imports, shared code included, as the IAM
 * actions they need. A static scan: it sees what the code imports, not which
 * table or resource a call goes to (the template checks do that).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { functionNamed } from '../../functions/registry.js';
import { REPO_ROOT } from '../../rehearsal/synth.js';

/** IAM prefix of each SDK client package the functions use. */
const SDK_SERVICE: Record<string, string> = {
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-kms': 'kms',
  '@aws-sdk/client-securityhub': 'securityhub',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-guardduty': 'guardduty',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-organizations': 'organizations',
};

/** The DynamoDB document client's commands and the IAM action each sends. */
const DOCUMENT_CLIENT: Record<string, string> = {
  GetCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
};

/** SDK commands whose IAM action has another name. */
const IAM_NAME: Record<string, string> = {
  's3:GetPublicAccessBlock': 's3:GetBucketPublicAccessBlock',
  's3:PutPublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  's3:DeletePublicAccessBlock': 's3:PutBucketPublicAccessBlock',
  // Security Hub's V2 (OCSF) calls are authorized as the V1 actions.
  'securityhub:GetFindingsV2': 'securityhub:GetFindings',
  'securityhub:BatchUpdateFindingsV2': 'securityhub:BatchUpdateFindings',
};

/** Permissions a call needs besides its own name. */
const IMPLIED: Record<string, readonly string[]> = {
  // The notification topic is KMS-encrypted: SNS uses the key as the publisher.
  'sns:Publish': ['kms:Decrypt', 'kms:GenerateDataKey'],
  // The state machines are encrypted with the execution key: Step Functions
  // uses it as the caller.
  'states:StartExecution': ['kms:Decrypt', 'kms:GenerateDataKey'],
  'states:SendTaskSuccess': ['kms:Decrypt', 'kms:GenerateDataKey'],
  'states:SendTaskFailure': ['kms:Decrypt', 'kms:GenerateDataKey'],
  'states:DescribeExecution': ['kms:Decrypt'],
  // Associating a profile passes its role to EC2.
  'ec2:AssociateIamInstanceProfile': ['iam:PassRole'],
  'ec2:ReplaceIamInstanceProfileAssociation': ['iam:PassRole'],
};

/** A source file the scan cannot follow or a command it cannot name. */
export class SourceScanError extends Error {
  override readonly name = 'SourceScanError';
}

/** The source files a function runs: its handler and every file it reaches by value imports. */
export function reachableSources(name: string, root = REPO_ROOT): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, path = ''] of source.matchAll(
      /(?:import|export)\s+(?!type\b)[^;]*?from\s*'(\.{1,2}\/[^']+)\.js'/g,
    )) {
      const target = resolve(dirname(file), `${path}.ts`);
      if (!existsSync(target)) {
        throw new SourceScanError(`${file} imports ${path}.js: no such file`);
      }
      visit(target);
    }
  };
  const spec = functionNamed(name);
  visit(join(root, 'functions', spec.dir, spec.entry));
  return [...seen];
}

/** The IAM action of one imported name, or undefined when it is no command. */
function actionOfImport(pkg: string, name: string): string | undefined {
  if (!name.endsWith('Command')) return undefined;
  if (pkg === '@aws-sdk/lib-dynamodb') {
    const action = DOCUMENT_CLIENT[name];
    if (!action) throw new SourceScanError(`no IAM action known for lib-dynamodb ${name}`);
    return action;
  }
  const service = SDK_SERVICE[pkg];
  if (!service) throw new SourceScanError(`no IAM prefix known for ${pkg}`);
  const call = `${service}:${name.slice(0, -'Command'.length)}`;
  return IAM_NAME[call] ?? call;
}

/**
 * The IAM actions for the SDK commands a function's code imports (lib-dynamodb
 * commands as the DynamoDB actions they send), with the permissions each
 * implies, sorted and without duplicates.
 */
export function commandsInSource(name: string, root = REPO_ROOT): string[] {
  const calls = new Set<string>();
  const importRe =
    /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/(?:client-[a-z0-9-]+|lib-dynamodb))'/g;
  for (const file of reachableSources(name, root)) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(importRe)) {
      // `import type { ... }` brings no command along.
      if (/^import\s*type\b/.test(match[0])) continue;
      const [, names = '', pkg = ''] = match;
      for (const raw of names.split(',')) {
        // `GetFindingsCommand as GetGuardDutyFindings`: the command is the imported name.
        const name = (raw.trim().split(/\s+as\s+/)[0] ?? '').trim();
        if (name === '' || name.startsWith('type ')) continue;
        const call = actionOfImport(pkg, name);
        if (!call) continue;
        calls.add(call);
        for (const implied of IMPLIED[call] ?? []) calls.add(implied);
      }
    }
  }
  return [...calls].sort();
}
