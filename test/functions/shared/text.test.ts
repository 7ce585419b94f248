import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiLine, boundedText, causeText, quoted } from '../../../functions/shared/text.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('boundedText', () => {
  it('turns newlines, tabs and ANSI sequences into single spaces', () => {
    expect(boundedText('a\nb\r\n\tc \u001b[31mred\u001b[0m  d', 100)).toBe('a b c red d');
  });

  it('removes bidi overrides that could reorder what a reader sees', () => {
    expect(boundedText('user\u202Egnp.exe', 100)).toBe('user gnp.exe');
  });

  it('cuts long text and marks the cut', () => {
    expect(boundedText('abcdefghij', 8)).toBe('abcde...');
  });

  it('does not split a character made of two UTF-16 units', () => {
    expect(boundedText('😀😀😀😀😀', 4)).toBe('😀...');
  });

  it('never returns control characters or more than max code points', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 3, max: 300 }), (s, max) => {
        const out = boundedText(s, max);
        return Array.from(out).length <= max && !CONTROL.test(out);
      }),
    );
  });
});

describe('asciiLine', () => {
  it('replaces non-ASCII characters and stays within the bound', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 3, max: 100 }), (s, max) => {
        const out = asciiLine(s, max);
        return out.length <= max && /^[\x20-\x7e]*$/.test(out);
      }),
    );
  });
});

describe('quoted', () => {
  it('shows text as a JSON string, escaping quotes', () => {
    expect(quoted('a"b\\c', 20)).toBe('"a\\"b\\\\c"');
  });

  it('stays within the bound, quotes and escapes included, and is valid JSON', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 8, max: 200 }), (s, max) => {
        const out = quoted(s, max);
        const back: unknown = JSON.parse(out);
        return Array.from(out).length <= max && typeof back === 'string' && !CONTROL.test(out);
      }),
    );
  });
});

describe('causeText', () => {
  it('keeps the message of a Lambda error cause and drops its trace', () => {
    const cause = JSON.stringify({ errorType: 'E', errorMessage: 'boom', trace: ['x'] });
    expect(causeText(cause, 100)).toBe('boom');
  });

  it('shows any other cause as bounded text', () => {
    expect(causeText('plain\ncause', 100)).toBe('plain cause');
    expect(causeText(undefined, 100)).toBe('(no cause given)');
  });
});
