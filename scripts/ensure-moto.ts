/**
 * `npx tsx scripts/ensure-moto.ts`: make sure a Python that can run moto's
 * server and the two linters the infra tests run (parliament, cfn-lint)
 * exists, installing the pinned versions into `.venv` if needed, and print
 * its path on stdout. Progress goes to stderr.
 */
import { ensurePythonTools } from './moto.js';

try {
  const python = await ensurePythonTools({
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${python}\n`);
} catch (error) {
  process.stderr.write(`ensure-moto: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
