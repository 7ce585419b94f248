/**
 * Text that goes into a Mermaid flowchart. Labels are written inside double
 * quotes, and every character outside a small safe set is written as a
 * numeric entity (`#35;`), which Mermaid decodes: no label, whatever it holds
 * (quotes, brackets, pipes, `#`, `;`, HTML, newlines), can end its node or
 * edge early, add a statement or inject markup.
 */

/** Characters written as they are; everything else becomes `#<code point>;`. */
const SAFE = /[A-Za-z0-9 .,:_/?()'=$*+!@-]/;

/** One line of label text, safe inside Mermaid's `"..."`. */
export function mermaidText(value: string): string {
  let out = '';
  for (const char of value) {
    out += SAFE.test(char) ? char : `#${char.codePointAt(0)};`;
  }
  return out;
}

/** Several lines of label text, each escaped, joined with Mermaid's line break. */
export function mermaidLabel(lines: readonly string[]): string {
  return `"${lines.map(mermaidText).join('<br/>')}"`;
}
