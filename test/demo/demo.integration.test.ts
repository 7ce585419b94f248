/**
 * `npm run demo` end to end: it starts its own moto server (not the test
 * run's), contains the five seeded findings (a leaked key that read a secret,
 * a role's credentials, an instance in an Auto Scaling group, a Lambda
 * function, a public bucket), a sixth from a member account,
 * organization-wide, and an attack sequence (one approval for its set), prints the state it read back, stops its server and
 * exits 0. One spawn: it costs a server start and a synth.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { motoClientConfig, useMoto } from '../support/moto.js';

// The run's server is handed to the demo as AWS_ENDPOINT_URL on purpose: the
// demo must ignore it and use the emulator it starts itself.
const { endpoint } = useMoto();
const root = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT = 180_000;

function demo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts'], {
      cwd: root,
      env: { ...process.env, AWS_ENDPOINT_URL: endpoint, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: TIMEOUT - 10_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  it(
    "contains the leaked key, the instance, the secret, the function, the bucket and a member account's leaked key, leaves the healthy key, the healthy instance and the hub's user of the member's name alone, and stops its own emulator",
    async () => {
      const run = await demo();
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/✓ leaked key {2}AKIA\w+ {2}Inactive/);
      expect(run.stdout).toMatch(/✓ healthy key AKIA\w+ {2}Active/);
      expect(run.stdout).toContain(
        '✓ user ci-deployer policies: inline CordonRevokeOlderSessions; managed AWSDenyAll',
      );
      expect(run.stdout).toContain('✓ user ci-deployer console password: removed');
      // The instance: each interface isolated, evidence kept, out of its group, profile gone.
      expect(run.stdout).toContain('playbook ec2-instance: SUCCEEDED');
      expect(run.stdout).toMatch(
        /✓ interfaces: (eni-\w+ web → cordon-isolation-no-traffic(; |\n)){2}/,
      );
      expect(run.stdout).toMatch(
        /✓ instance i-\w+: termination protection on, snapshots snap-\w+\n/,
      );
      const group =
        /✓ group web-workers: (i-\w+), (i-\w+) \(desired 2\) → (i-\w+) \(desired 1\)/.exec(
          run.stdout,
        );
      expect(group).not.toBeNull();
      const [, contained, healthy, remaining] = group ?? [];
      expect(run.stdout).toContain(`instance ${contained}: termination protection on`);
      expect(remaining).toBe(healthy);
      expect(run.stdout).toMatch(
        /✓ instance profile: instance-profile\/web-worker → none; role web-worker: CordonRevokeOlderSessions/,
      );
      // The exposures: the secret locked (by hand rotation), the function stopped, the bucket blocked.
      for (const playbook of ['secret-exposure', 'integration-quarantine', 's3-exposure']) {
        expect(run.stdout).toContain(`playbook ${playbook}: SUCCEEDED`);
      }
      expect(run.stdout).toMatch(
        /✓ secret payments-db-password: CordonLockSecret denies GetSecretValue; manual rotation required/,
      );
      // The attack sequence: one approval for the set, each member contained by its own playbook.
      expect(run.stdout).toContain('playbook attack-sequence: SUCCEEDED');
      expect(run.stdout).toContain(
        '✓ attack sequence, user data-pipeline: leaked key Inactive, healthy key Active',
      );
      expect(run.stdout).toMatch(
        /✓ attack sequence, bucket finance-exports: public access block none → all four on/,
      );
      expect(run.stdout).toContain('✓ attack sequence: 1 approval request for the whole set');
      expect(run.stdout).toMatch(
        /✓ function image-resizer: reserved concurrency unreserved → 0; role image-resizer-role: CordonRevokeOlderSessions/,
      );
      expect(run.stdout).toMatch(
        /✓ bucket marketing-assets-public: public access block none → all four on/,
      );
      // The member account's finding: contained in the member, the hub's user of that name untouched.
      const sixth =
        /6\. leaked access key of user (\S+) in member account (\d{12}), delivered to the hub (\d{12})\n {2}playbook iam-credentials: SUCCEEDED/.exec(
          run.stdout,
        );
      expect(sixth, run.stdout).not.toBeNull();
      const [, memberUser, memberAccount, hub] = sixth ?? [];
      expect(memberAccount).not.toBe(hub);
      expect(run.stdout).toMatch(
        new RegExp(
          `✓ member ${memberAccount}: user ${memberUser} leaked key AKIA\\w+ Inactive, healthy key Active\n`,
        ),
      );
      expect(run.stdout).toContain(
        `✓ hub ${hub}: user ${memberUser} of the same name, both keys Active (untouched)`,
      );
      expect(run.stdout).toContain('auto-approved for this demo');
      expect(run.stdout).toMatch(/approved by .+ → CONTAINED/);
      expect(run.stdout).not.toContain('✗');
      expect(run.stdout).not.toContain('rehearsal-token-');
      expect(run.stdout).toMatch(/demo took \d+\.\d s/);
      // Short enough to read in one screenful or two: seven findings, a few lines each.
      expect(run.stdout.split('\n').length).toBeLessThanOrEqual(130);

      // It used an emulator of its own, and stopped it.
      const own = /moto on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
      expect(own).toBeDefined();
      expect(own).not.toBe(endpoint);
      await expect(fetch(`${own}/moto-api/`)).rejects.toThrow();
      const users = await new IAMClient(motoClientConfig(endpoint)).send(new ListUsersCommand({}));
      expect(users.Users).toEqual([]);
    },
    TIMEOUT,
  );
});
