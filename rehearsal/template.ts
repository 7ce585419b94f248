import { z } from 'zod';

/**
 * Reads what the rehearsal engine needs out of a synthesized CloudFormation
 * template: each function's action and environment, each playbook's state
 * machine definition, and the rules (patterns and targets) that start them.
 * Intrinsics are resolved against a small table of local stand-ins, so the
 * definitions executed are exactly the ones that deploy.
 */

const ResourceSchema = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
});
const TemplateSchema = z.looseObject({ Resources: z.record(z.string(), ResourceSchema) });
export type CfnTemplate = z.infer<typeof TemplateSchema>;

export interface LocalValues {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** Physical value of `Ref` on a logical id, by resource type. */
  readonly ref: (logicalId: string, type: string) => string | undefined;
  /** Physical value of `Fn::GetAtt [logicalId, attr]`, by resource type. */
  readonly getAtt: (logicalId: string, type: string, attr: string) => string | undefined;
}

export interface TemplateFunction {
  readonly logicalId: string;
  readonly action: string;
  readonly arn: string;
  readonly environment: Record<string, string>;
}

export interface TemplateStateMachine {
  readonly logicalId: string;
  /** Its StateMachineName: fixed at synthesis, since the execution key's grants name its ARN. */
  readonly name: string;
  readonly playbook: string;
  readonly definition: unknown;
}

export interface TemplateRule {
  readonly logicalId: string;
  readonly eventPattern: unknown;
  readonly stateMachineLogicalIds: string[];
}

export interface RehearsalModel {
  readonly functions: Map<string, TemplateFunction>;
  readonly functionsByArn: Map<string, TemplateFunction>;
  readonly stateMachines: Map<string, TemplateStateMachine>;
  readonly rules: TemplateRule[];
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/**
 * The rehearsal stack's id (`AWS::StackId`): a fixed UUID, since nothing
 * CloudFormation draws exists locally (organization-wide it is the hub
 * deployment's part of every external id).
 */
export const REHEARSAL_STACK_UUID = '0c0de000-0000-4000-8000-000000000001';

export function rehearsalStackId(
  values: Pick<LocalValues, 'partition' | 'region' | 'account'>,
): string {
  return `arn:${values.partition}:cloudformation:${values.region}:${values.account}:stack/cordon-rehearsal/${REHEARSAL_STACK_UUID}`;
}

export function localFunctionArn(values: LocalValues, logicalId: string): string {
  return `arn:${values.partition}:lambda:${values.region}:${values.account}:function:${logicalId}`;
}

/** A state machine's name as the template fixes it. */
export function stateMachineName(raw: unknown, logicalId: string): string {
  const resource = TemplateSchema.parse(raw).Resources[logicalId];
  const name = resource?.Properties?.StateMachineName;
  if (typeof name !== 'string') {
    throw new TemplateError(`state machine ${logicalId} has no fixed StateMachineName`);
  }
  return name;
}

export function readTemplate(raw: unknown, values: LocalValues): RehearsalModel {
  const template = TemplateSchema.parse(raw);
  const resources = template.Resources;
  const resolve = resolver(resources, values);

  const functions = new Map<string, TemplateFunction>();
  const functionsByArn = new Map<string, TemplateFunction>();
  for (const [logicalId, res] of Object.entries(resources)) {
    if (res.Type !== 'AWS::Lambda::Function') continue;
    const env = z
      .object({ Variables: z.record(z.string(), z.unknown()) })
      .optional()
      .parse(res.Properties?.Environment);
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(env?.Variables ?? {})) {
      environment[key] = String(resolve(value));
    }
    const action = environment.CORDON_ACTION;
    if (!action) continue; // not one of Cordon's action functions
    const fn = { logicalId, action, arn: localFunctionArn(values, logicalId), environment };
    functions.set(logicalId, fn);
    functionsByArn.set(fn.arn, fn);
  }

  const stateMachines = new Map<string, TemplateStateMachine>();
  for (const [logicalId, res] of Object.entries(resources)) {
    if (res.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const props = res.Properties ?? {};
    const tags = z
      .array(z.object({ Key: z.string(), Value: z.string() }))
      .optional()
      .parse(props.Tags);
    const playbook = tags?.find((t) => t.Key === 'cordon:playbook')?.Value;
    if (!playbook) continue;
    const definitionString = resolve(props.DefinitionString);
    if (typeof definitionString !== 'string') {
      throw new TemplateError(`state machine ${logicalId} has no resolvable DefinitionString`);
    }
    stateMachines.set(logicalId, {
      logicalId,
      name: stateMachineName(raw, logicalId),
      playbook,
      definition: JSON.parse(definitionString),
    });
  }

  const rules: TemplateRule[] = [];
  for (const [logicalId, res] of Object.entries(resources)) {
    if (res.Type !== 'AWS::Events::Rule') continue;
    const props = res.Properties ?? {};
    if (props.State === 'DISABLED') continue;
    const targets = z
      .array(z.looseObject({ Arn: z.unknown() }))
      .optional()
      .parse(props.Targets);
    const ids = (targets ?? [])
      .map((t) => refTarget(t.Arn))
      .filter((id): id is string => id !== undefined && stateMachines.has(id));
    if (ids.length > 0) {
      rules.push({ logicalId, eventPattern: props.EventPattern, stateMachineLogicalIds: ids });
    }
  }
  return { functions, functionsByArn, stateMachines, rules };
}

function refTarget(value: unknown): string | undefined {
  const parsed = z.object({ Ref: z.string() }).safeParse(value);
  return parsed.success ? parsed.data.Ref : undefined;
}

/**
 * Resolves the intrinsics of template values (Ref, Fn::GetAtt, Fn::Join and
 * the pseudo parameters) against `values`; any other intrinsic, or a
 * reference `values` has no answer for, is a TemplateError.
 */
export function resolver(
  resources: CfnTemplate['Resources'],
  values: LocalValues,
): (value: unknown) => unknown {
  const typeOf = (id: string) => {
    const res = resources[id];
    if (!res) throw new TemplateError(`template refers to unknown resource ${id}`);
    return res.Type;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [key, arg] = entries.length === 1 && entries[0] ? entries[0] : [undefined, undefined];
    if (key === 'Ref' && typeof arg === 'string') {
      if (arg === 'AWS::AccountId') return values.account;
      if (arg === 'AWS::Region') return values.region;
      if (arg === 'AWS::Partition') return values.partition;
      if (arg === 'AWS::URLSuffix') return 'amazonaws.com';
      if (arg === 'AWS::StackId') return rehearsalStackId(values);
      const type = typeOf(arg);
      if (type === 'AWS::Lambda::Function') return localFunctionArn(values, arg);
      const local = values.ref(arg, type);
      if (local === undefined) throw new TemplateError(`no local value for Ref ${arg} (${type})`);
      return local;
    }
    if (key === 'Fn::GetAtt' && Array.isArray(arg) && arg.length === 2) {
      const [id, attr] = arg.map(String) as [string, string];
      const type = typeOf(id);
      if (type === 'AWS::Lambda::Function' && attr === 'Arn') return localFunctionArn(values, id);
      const local = values.getAtt(id, type, attr);
      if (local === undefined) {
        throw new TemplateError(`no local value for GetAtt ${id}.${attr} (${type})`);
      }
      return local;
    }
    if (key === 'Fn::Join' && Array.isArray(arg) && arg.length === 2) {
      const [sep, parts] = arg;
      if (typeof sep === 'string' && Array.isArray(parts)) {
        return parts.map((p) => String(resolve(p))).join(sep);
      }
    }
    if (key === 'Fn::Split' && Array.isArray(arg) && arg.length === 2) {
      const [sep, source] = arg;
      const text = resolve(source);
      if (typeof sep === 'string' && typeof text === 'string') return text.split(sep);
    }
    if (key === 'Fn::Select' && Array.isArray(arg) && arg.length === 2) {
      const [index, list] = [Number(resolve(arg[0])), resolve(arg[1])];
      if (Array.isArray(list) && Number.isInteger(index) && index >= 0 && index < list.length) {
        return list[index];
      }
    }
    if (key?.startsWith('Fn::')) throw new TemplateError(`unsupported intrinsic ${key}`);
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}
