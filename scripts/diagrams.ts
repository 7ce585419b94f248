/**
 * `npm run diagrams`: synthesizes the default stack (without bundling) and
 * writes docs/playbooks.md, one Mermaid flowchart per state machine, drawn
 * from the synthesized definitions, and the README's GuardDuty routing
 * table, from the synthesized rules and triage's parser. The same template
 * always gives the same text; test/docs/*.test.ts fail when either is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, synthesizeTemplate } from '../rehearsal/synth.js';
import { DOCUMENT_PATH, playbooksDocument } from './diagram/document.js';
import {
  findingKinds,
  GUARDDUTY_TYPES_PATH,
  GuardDutyTypesSchema,
  guardDutyRoutingTable,
  playbookRules,
  withRoutingTable,
} from './routing/guardduty.js';
import { securityHubRoutingTable, withSecurityHubRoutingTable } from './routing/securityhub.js';

try {
  const template = synthesizeTemplate({ account: '123456789012', region: 'us-east-1' });
  writeFileSync(join(REPO_ROOT, DOCUMENT_PATH), playbooksDocument(template));
  process.stdout.write(`wrote ${DOCUMENT_PATH}\n`);
  const { types } = GuardDutyTypesSchema.parse(
    JSON.parse(readFileSync(join(REPO_ROOT, GUARDDUTY_TYPES_PATH), 'utf8')),
  );
  const readme = join(REPO_ROOT, 'README.md');
  const rules = playbookRules(template);
  const table = guardDutyRoutingTable(findingKinds(types), rules);
  const withGuardDuty = withRoutingTable(readFileSync(readme, 'utf8'), table);
  writeFileSync(readme, withSecurityHubRoutingTable(withGuardDuty, securityHubRoutingTable(rules)));
  process.stdout.write('wrote the GuardDuty and Security Hub routing tables into README.md\n');
} catch (error) {
  process.stderr.write(`diagrams: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
