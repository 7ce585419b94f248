/**
 * A synthesized template's intrinsics replaced by the concrete values they
 * would take in the test account and region, so its policy documents can be
 * read as IAM reads them: by the IAM evaluator (./iam-eval.ts) and by
 * parliament (test/infra/linters.test.ts).
 *
 * Each resource gets an ARN of its own type's form, named after its logical
 * id (a role `arn:aws:iam::<account>:role/cordon/<id>`, a function
 * `arn:aws:lambda:<region>:<account>:function:<id>`), so an attack written
 * against "Cordon's own role" names exactly the ARN the policies name.
 */
import { z } from 'zod';
import { CORDON_ROLE_PATH } from '../../functions/shared/runtime-config.js';
import { type CfnTemplate, TEST_ACCOUNT, TEST_REGION } from './template.js';

const PARTITION = 'aws';

/** The ARN a resource of the template would have. */
export function arnOf(json: CfnTemplate, logicalId: string): string {
  const resource = json.Resources[logicalId];
  if (!resource) throw new Error(`the template has no resource ${logicalId}`);
  const regional = (service: string) =>
    `arn:${PARTITION}:${service}:${TEST_REGION}:${TEST_ACCOUNT}`;
  switch (resource.Type) {
    case 'AWS::IAM::Role':
      return `arn:${PARTITION}:iam::${TEST_ACCOUNT}:role${CORDON_ROLE_PATH}${logicalId}`;
    case 'AWS::Lambda::Function':
      return `${regional('lambda')}:function:${logicalId}`;
    case 'AWS::DynamoDB::GlobalTable':
    case 'AWS::DynamoDB::Table':
      return `${regional('dynamodb')}:table/${logicalId}`;
    case 'AWS::Logs::LogGroup':
      return `${regional('logs')}:log-group:${logicalId}:*`;
    case 'AWS::KMS::Key':
      return `${regional('kms')}:key/${logicalId}`;
    case 'AWS::SNS::Topic':
      return `${regional('sns')}:${logicalId}`;
    case 'AWS::SQS::Queue':
      return `${regional('sqs')}:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `${regional('states')}:stateMachine:${logicalId}`;
    case 'AWS::S3::Bucket':
      return `arn:${PARTITION}:s3:::${logicalId}`;
    default:
      throw new Error(`no ARN form for ${resource.Type} (${logicalId})`);
  }
}

/** What `Ref` returns for a resource: an ARN for topics, queues and state machines, else a name. */
/** The stack's id, as CloudFormation would give it (its UUID is any). */
export const TEST_STACK_ID = `arn:${PARTITION}:cloudformation:${TEST_REGION}:${TEST_ACCOUNT}:stack/Cordon/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d`;

function refOf(json: CfnTemplate, logicalId: string): string {
  switch (logicalId) {
    case 'AWS::Partition':
      return PARTITION;
    case 'AWS::Region':
      return TEST_REGION;
    case 'AWS::AccountId':
      return TEST_ACCOUNT;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackId':
      return TEST_STACK_ID;
    default:
      break;
  }
  const resource = json.Resources[logicalId];
  if (!resource) throw new Error(`Ref to ${logicalId}: no such resource`);
  switch (resource.Type) {
    case 'AWS::SNS::Topic':
    case 'AWS::SQS::Queue':
    case 'AWS::StepFunctions::StateMachine':
      return arnOf(json, logicalId);
    case 'AWS::SSM::Parameter':
      return z.string().parse(resource.Properties?.Name);
    default:
      return logicalId;
  }
}

/** `value` with every `Ref`, `Fn::GetAtt` (`Arn`, a state machine's `Name`) and `Fn::Join` replaced by its value. */
export function resolveIntrinsics(value: unknown, json: CfnTemplate): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, json));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [key, arg] = first;
    if (key === 'Ref') return refOf(json, z.string().parse(arg));
    if (key === 'Fn::GetAtt') {
      const [id, attribute] = z.tuple([z.string(), z.string()]).parse(arg);
      if (attribute === 'Arn') return arnOf(json, id);
      // A table's stream, labelled as DynamoDB labels streams.
      if (attribute === 'StreamArn') return `${arnOf(json, id)}/stream/2026-01-01T00:00:00.000`;
      // A state machine is named after its logical id, as in its ARN.
      if (attribute === 'Name' && json.Resources[id]?.Type === 'AWS::StepFunctions::StateMachine') {
        return id;
      }
      throw new Error(`Fn::GetAtt ${id}.${attribute} does not resolve here`);
    }
    if (key === 'Fn::Join') {
      const [separator, parts] = z.tuple([z.string(), z.array(z.unknown())]).parse(arg);
      return parts.map((p) => z.string().parse(resolveIntrinsics(p, json))).join(separator);
    }
    if (key === 'Fn::Split') {
      const [separator, source] = z.tuple([z.string(), z.unknown()]).parse(arg);
      return z.string().parse(resolveIntrinsics(source, json)).split(separator);
    }
    if (key === 'Fn::Select') {
      const [index, list] = z.tuple([z.number(), z.unknown()]).parse(arg);
      return z.array(z.string()).parse(resolveIntrinsics(list, json))[index];
    }
    if (key === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{(AWS::[A-Za-z]+)\}/g, (_m, pseudo: string) => refOf(json, pseudo));
    }
    if (key.startsWith('Fn::')) throw new Error(`${key} does not resolve here`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, json)]));
}
