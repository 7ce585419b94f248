import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOCUMENT_PATH, playbooksDocument } from '../../scripts/diagram/document.js';
import { DiagramError } from '../../scripts/diagram/errors.js';
import { flowchart } from '../../scripts/diagram/flowchart.js';
import { mermaidText } from '../../scripts/diagram/mermaid.js';
import {
  allStates,
  defaultTemplate,
  parseDefinition,
  resourcesOfType,
} from '../support/template.js';

/**
 * docs/playbooks.md is generated from the synthesized definitions; these
 * tests keep it current and keep the generator honest: everything it draws
 * is in the definition, and what it cannot draw stops it.
 */

const STALE = `${DOCUMENT_PATH} is stale: the synthesized state machines changed. Run \`npm run diagrams\` and commit the result.`;

describe('docs/playbooks.md', () => {
  const generated = playbooksDocument(defaultTemplate().json);

  it('matches the synthesized definitions', () => {
    const committed = readFileSync(new URL(`../../${DOCUMENT_PATH}`, import.meta.url), 'utf8');
    expect(committed === generated, STALE).toBe(true);
  });

  it('draws every state of every state machine as one node, and only those', () => {
    const machines = resourcesOfType(defaultTemplate().json, 'AWS::StepFunctions::StateMachine');
    const stateCount = machines.reduce(
      (n, [, m]) => n + allStates(parseDefinition(m.Properties?.DefinitionString)).length,
      0,
    );
    const nodes = generated
      .split('\n')
      .filter((line) => /^\s+(s(?:_\d+)+(?:\[|\{|\(|\s\[)|subgraph s(?:_\d+)+ )/.test(line));
    expect(machines).toHaveLength(7);
    expect(nodes).toHaveLength(stateCount);
    expect(generated.match(/```mermaid\n/g)).toHaveLength(7);
  });

  it('is the same text every time', () => {
    expect(playbooksDocument(defaultTemplate().json)).toBe(generated);
  });
});

const task = (next: Record<string, unknown> = { End: true }) => ({
  Type: 'Task',
  Resource: 'arn:aws:lambda:local:000000000000:function:F',
  ...next,
});

describe('the flowchart generator', () => {
  it('draws each kind of transition: Next, choice rules, Default, Catch, End, a Map', () => {
    const chart = flowchart(
      {
        StartAt: 'A',
        States: {
          A: task({ Next: 'B', Catch: [{ ErrorEquals: ['X.One', 'X.Two'], Next: 'F' }] }),
          B: {
            Type: 'Choice',
            Choices: [
              { Not: { Variable: '$.n', NumericGreaterThanEquals: 3 }, Next: 'M' },
              {
                Or: [
                  { Variable: '$.s', StringEquals: 'x' },
                  {
                    And: [
                      { Variable: '$.t', IsNull: false },
                      { Variable: '$.u', BooleanEquals: true },
                    ],
                  },
                ],
                Next: 'P',
              },
            ],
            Default: 'S',
          },
          M: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: { StartAt: 'I', States: { I: task() } },
            Next: 'S',
          },
          P: { Type: 'Pass', Next: 'S' },
          S: { Type: 'Succeed' },
          F: { Type: 'Fail', Error: 'E' },
        },
      },
      'test',
    );
    expect(chart).toContain('s_0 --> s_1');
    expect(chart).toContain('s_0 -.->|"X.One, X.Two"| s_2');
    expect(chart).toContain('s_1 -->|"not (n #62;= 3)"| s_3');
    expect(chart).toContain('s_1 -->|"s = \'x\' or (t is not null and u = true)"| s_4');
    expect(chart).toContain('s_1 -->|"otherwise"| s_5');
    expect(chart).toContain('subgraph s_3 ["M<br/>each item of $.items"]');
    expect(chart).toContain('s_3_0 --> s_3_end');
    expect(chart).toContain('s_2(["F<br/>E"]):::fail');
    expect(chart).toContain('s_4[/"P"/]');
  });

  const broken: Array<[string, unknown, RegExp]> = [
    ['not a definition', { States: {} }, /not a state machine definition/],
    ['a StartAt that is no state', { StartAt: 'X', States: { A: task() } }, /StartAt "X"/],
    [
      'a Parallel state',
      { StartAt: 'A', States: { A: { Type: 'Parallel', Branches: [], End: true } } },
      /type Parallel is not one the diagram can draw/,
    ],
    [
      'a Wait state',
      { StartAt: 'A', States: { A: { Type: 'Wait', Seconds: 1, End: true } } },
      /type Wait/,
    ],
    [
      'a Next to no state',
      { StartAt: 'A', States: { A: task({ Next: 'Nowhere' }) } },
      /goes to unknown state "Nowhere"/,
    ],
    [
      'an unreachable state',
      { StartAt: 'A', States: { A: task(), B: task() } },
      /unreachable state\(s\) "B"/,
    ],
    [
      'a Task with neither Next nor End',
      { StartAt: 'A', States: { A: task({}) } },
      /exactly one of Next and End/,
    ],
    [
      'a choice operator it does not know',
      {
        StartAt: 'A',
        States: {
          A: { Type: 'Choice', Choices: [{ Variable: '$.x', StringLooksLike: 'y', Next: 'B' }] },
          B: { Type: 'Succeed' },
        },
      },
      /operator StringLooksLike/,
    ],
    [
      'a JSONata condition',
      {
        StartAt: 'A',
        States: {
          A: { Type: 'Choice', Choices: [{ Condition: '{% $x %}', Next: 'B' }] },
          B: { Type: 'Succeed' },
        },
      },
      /needs a Variable/,
    ],
    [
      'a Map without its iterator',
      { StartAt: 'A', States: { A: { Type: 'Map', End: true } } },
      /needs an ItemProcessor or Iterator/,
    ],
    [
      'a broken iterator',
      {
        StartAt: 'A',
        States: { A: { Type: 'Map', ItemProcessor: { StartAt: 'I', States: {} }, End: true } },
      },
      /state "A": StartAt "I" is not a state/,
    ],
  ];

  it.each(broken)('fails loudly on %s', (_what, definition, message) => {
    expect(() => flowchart(definition, 'broken')).toThrow(DiagramError);
    expect(() => flowchart(definition, 'broken')).toThrow(message);
  });

  it('fails loudly when a task invokes no Cordon function', () => {
    const template = structuredClone(defaultTemplate().json);
    const [, machine] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine')[0] ?? [];
    const props = machine?.Properties ?? {};
    props.DefinitionString = JSON.stringify({
      StartAt: 'A',
      States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
    });
    expect(() => playbooksDocument(template)).toThrow(/task "A" invokes no Cordon function/);
  });
});

describe('Mermaid label text', () => {
  const decode = (text: string) =>
    text.replace(/#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)));

  it('holds only safe characters, whatever the input, and decodes back to it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const text = mermaidText(value);
        expect(text).toMatch(/^[A-Za-z0-9 .,:_/?()'=$*+!@#;-]*$/);
        expect(decode(text)).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it('escapes what would end a label or start a statement', () => {
    expect(mermaidText('a"b|c]d;e#f<g>\nh`i{j}')).toBe(
      'a#34;b#124;c#93;d#59;e#35;f#60;g#62;#10;h#96;i#123;j#125;',
    );
  });
});
