/**
 * `npm run diagrams`: synthesizes the default stack (without bundling) and
 * writes docs/playbooks.md, one Mermaid flowchart per state machine, drawn
 * from the synthesized definitions. The same template always gives the same
 * file; test/docs/diagrams.test.ts fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, synthesizeTemplate } from '../rehearsal/synth.js';
import { DOCUMENT_PATH, playbooksDocument } from './diagram/document.js';

try {
  const template = synthesizeTemplate({ account: '123456789012', region: 'us-east-1' });
  writeFileSync(join(REPO_ROOT, DOCUMENT_PATH), playbooksDocument(template));
  process.stdout.write(`wrote ${DOCUMENT_PATH}\n`);
} catch (error) {
  process.stderr.write(`diagrams: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
