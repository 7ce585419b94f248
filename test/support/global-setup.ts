/**
 * Global setup of the `integration` test project (see vitest.config.ts): one
 * moto server for the whole run, its endpoint provided to the tests as
 * `inject('motoEndpoint')` (use `useMoto()` from ./moto.ts rather than
 * injecting directly). Unit tests never start it.
 */
import type { TestProject } from 'vitest/node';
import { ensureMoto, startMoto } from '../../scripts/moto.js';
import './moto.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => {
    if (process.env.CORDON_DEBUG_MOTO === '1') process.stderr.write(`${line}\n`);
  };
  const python = await ensureMoto({ log });
  const server = await startMoto({ python });
  log(`moto: serving on ${server.endpoint}`);
  project.provide('motoEndpoint', server.endpoint);
  return async () => {
    await server.stop();
  };
}
