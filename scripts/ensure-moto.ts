/**
 * `npx tsx scripts/ensure-moto.ts`: make sure a Python that can run moto's
 * server exists (installing the pinned moto into `.venv` if needed) and print
 * its path on stdout. Progress goes to stderr.
 */
import { ensureMoto } from './moto.js';

try {
  const python = await ensureMoto({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${python}\n`);
} catch (error) {
  process.stderr.write(`ensure-moto: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
