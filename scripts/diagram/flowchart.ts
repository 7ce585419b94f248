import { z } from 'zod';
import { conditionText } from './condition.js';
import { DiagramError } from './errors.js';
import { mermaidLabel } from './mermaid.js';

/**
 * A Step Functions definition (Amazon States Language, JSONPath) as a Mermaid
 * flowchart: one node per state, shaped by its type, and an edge per
 * transition: `Next`, each Choice rule (labelled with its condition), a
 * Choice's `Default` (labelled `otherwise`), and each Catch (dashed, labelled
 * with its error names). A Map is a subgraph holding its iterator. Node ids
 * follow the order states are reached from `StartAt`, so the same definition
 * always gives the same text. Retries are not drawn (they return to the same
 * state). Anything it cannot draw faithfully throws DiagramError.
 */

const DRAWABLE = ['Task', 'Choice', 'Pass', 'Succeed', 'Fail', 'Map'] as const;
type Drawable = (typeof DRAWABLE)[number];

const StateSchema = z.looseObject({
  Type: z.string(),
  Resource: z.string().optional(),
  Parameters: z.unknown().optional(),
  TimeoutSeconds: z.number().optional(),
  Next: z.string().optional(),
  End: z.boolean().optional(),
  Default: z.string().optional(),
  Choices: z.array(z.unknown()).optional(),
  Catch: z
    .array(z.looseObject({ ErrorEquals: z.array(z.string()).min(1), Next: z.string() }))
    .optional(),
  Error: z.string().optional(),
  ItemsPath: z.string().optional(),
  MaxConcurrency: z.number().optional(),
  ItemProcessor: z.unknown().optional(),
  Iterator: z.unknown().optional(),
});
/** One state, as the generator reads it. */
export type DrawnState = z.infer<typeof StateSchema>;

const DefinitionSchema = z.looseObject({
  StartAt: z.string(),
  States: z.record(z.string(), z.unknown()),
});

export interface FlowchartOptions {
  /** Extra label lines for a Task (what it invokes). @default none */
  readonly taskDetail?: (name: string, state: DrawnState) => readonly string[];
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
  readonly dashed?: boolean;
}

interface Scope {
  readonly id: string;
  readonly where: string;
  readonly states: ReadonlyMap<string, DrawnState>;
  readonly order: readonly string[];
  readonly ids: ReadonlyMap<string, string>;
}

function fail(where: string, why: string): never {
  throw new DiagramError(`${where}: ${why}`);
}

function isDrawable(type: string): type is Drawable {
  return (DRAWABLE as readonly string[]).includes(type);
}

/** The states a state can go to, in a fixed order. */
function targets(state: DrawnState): string[] {
  return [
    ...(state.Next === undefined ? [] : [state.Next]),
    ...(state.Choices ?? []).flatMap((rule) => {
      const next = z.looseObject({ Next: z.string() }).safeParse(rule);
      return next.success ? [next.data.Next] : [];
    }),
    ...(state.Default === undefined ? [] : [state.Default]),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

function readScope(raw: unknown, id: string, where: string): Scope {
  const parsed = DefinitionSchema.safeParse(raw);
  if (!parsed.success) fail(where, 'not a state machine definition (StartAt and States)');
  const states = new Map<string, DrawnState>();
  for (const [name, value] of Object.entries(parsed.data.States)) {
    const state = StateSchema.safeParse(value);
    if (!state.success) fail(`${where} state ${JSON.stringify(name)}`, 'malformed state');
    states.set(name, state.data);
  }
  const { StartAt } = parsed.data;
  if (!states.has(StartAt)) fail(where, `StartAt ${JSON.stringify(StartAt)} is not a state`);
  // Breadth-first from StartAt: the order of nodes and of their ids.
  const order: string[] = [StartAt];
  for (let i = 0; i < order.length; i++) {
    const name = order[i] as string;
    for (const target of targets(states.get(name) as DrawnState)) {
      if (!states.has(target)) {
        fail(
          `${where} state ${JSON.stringify(name)}`,
          `goes to unknown state ${JSON.stringify(target)}`,
        );
      }
      if (!order.includes(target)) order.push(target);
    }
  }
  const unreachable = [...states.keys()].filter((name) => !order.includes(name));
  if (unreachable.length > 0) {
    fail(where, `unreachable state(s) ${unreachable.map((n) => JSON.stringify(n)).join(', ')}`);
  }
  const ids = new Map(order.map((name, i) => [name, `${id}_${i}`]));
  return { id, where, states, order, ids };
}

function stateId(scope: Scope, name: string): string {
  return scope.ids.get(name) as string;
}

/** Draws one scope (the machine, or a Map's iterator) into `lines`. */
function drawScope(scope: Scope, options: FlowchartOptions, indent: string, lines: string[]): void {
  const edges: Edge[] = [];
  const startId = `${scope.id}_start`;
  const endId = `${scope.id}_end`;
  let usesEnd = false;
  lines.push(`${indent}${startId}(["start"]):::marker`);
  edges.push({ from: startId, to: stateId(scope, scope.order[0] as string) });

  for (const name of scope.order) {
    const state = scope.states.get(name) as DrawnState;
    const where = `${scope.where} state ${JSON.stringify(name)}`;
    const id = stateId(scope, name);
    const type = state.Type;
    if (!isDrawable(type)) fail(where, `type ${type} is not one the diagram can draw`);

    const terminal = type === 'Succeed' || type === 'Fail';
    const routes = type === 'Choice';
    if (terminal && (state.Next !== undefined || state.End !== undefined)) {
      fail(where, `a ${type} state has no Next or End`);
    }
    if (!terminal && !routes && (state.Next === undefined) === (state.End !== true)) {
      fail(where, 'needs exactly one of Next and End: true');
    }
    if (routes && (state.Choices === undefined || state.Choices.length === 0)) {
      fail(where, 'a Choice state needs Choices');
    }
    if (state.Catch !== undefined && type !== 'Task' && type !== 'Map') {
      fail(where, `a ${type} state cannot catch errors`);
    }

    switch (type) {
      case 'Task':
        lines.push(
          `${indent}${id}[${mermaidLabel([name, ...(options.taskDetail?.(name, state) ?? [])])}]`,
        );
        break;
      case 'Choice':
        lines.push(`${indent}${id}{${mermaidLabel([name])}}`);
        break;
      case 'Pass':
        lines.push(`${indent}${id}[/${mermaidLabel([name])}/]`);
        break;
      case 'Succeed':
        lines.push(`${indent}${id}([${mermaidLabel([name])}]):::succeed`);
        break;
      case 'Fail':
        lines.push(
          `${indent}${id}([${mermaidLabel([name, ...(state.Error === undefined ? [] : [state.Error])])}]):::fail`,
        );
        break;
      case 'Map': {
        const processor = state.ItemProcessor ?? state.Iterator;
        if (processor === undefined) fail(where, 'a Map state needs an ItemProcessor or Iterator');
        const each = [
          `each item of ${state.ItemsPath ?? '$'}`,
          ...(state.MaxConcurrency === 1 ? ['one at a time'] : []),
        ].join(', ');
        lines.push(`${indent}subgraph ${id} [${mermaidLabel([name, each])}]`);
        drawScope(readScope(processor, id, where), options, `${indent}  `, lines);
        lines.push(`${indent}end`);
        break;
      }
    }

    if (state.Next !== undefined) edges.push({ from: id, to: stateId(scope, state.Next) });
    if (state.End === true) {
      usesEnd = true;
      edges.push({ from: id, to: endId });
    }
    for (const rule of state.Choices ?? []) {
      const next = z.looseObject({ Next: z.string() }).safeParse(rule);
      if (!next.success) fail(where, 'a choice rule needs Next');
      edges.push({
        from: id,
        to: stateId(scope, next.data.Next),
        label: conditionText(rule, where),
      });
    }
    if (state.Default !== undefined) {
      edges.push({ from: id, to: stateId(scope, state.Default), label: 'otherwise' });
    }
    for (const c of state.Catch ?? []) {
      edges.push({
        from: id,
        to: stateId(scope, c.Next),
        label: c.ErrorEquals.join(', '),
        dashed: true,
      });
    }
  }
  if (usesEnd) lines.push(`${indent}${endId}(["end"]):::marker`);
  for (const edge of edges) {
    const arrow = edge.dashed ? '-.->' : '-->';
    const label = edge.label === undefined ? '' : `|${mermaidLabel([edge.label])}|`;
    lines.push(`${indent}${edge.from} ${arrow}${label} ${edge.to}`);
  }
}

/** Styles of the marker, success and failure nodes. */
const CLASSES = [
  'classDef marker fill:#eeeeee,stroke:#999999,color:#555555',
  'classDef succeed fill:#e6f4ea,stroke:#1e8e3e',
  'classDef fail fill:#fce8e6,stroke:#d93025',
];

/**
 * The Mermaid flowchart of a definition, without the code fence. `name`
 * names the definition in errors.
 */
export function flowchart(
  definition: unknown,
  name: string,
  options: FlowchartOptions = {},
): string {
  const lines = ['flowchart TD'];
  drawScope(readScope(definition, 's', name), options, '  ', lines);
  lines.push(...CLASSES.map((c) => `  ${c}`));
  return lines.join('\n');
}
