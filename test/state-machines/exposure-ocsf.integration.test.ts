/**
 * Layer 3, configured: the s3-exposure playbook synthesized with
 * blockPublicAccess in `auto`, so that what stands between a Security Hub
 * OCSF finding ("Findings Imported V2") and an unattended change to a bucket
 * is triage's check of the finding, not a responder. One engine per
 * configuration, so a file of its own.
 *
 * Buckets, the ledger and notifications are moto's. Security Hub's V2 APIs
 * (GetFindingsV2, BatchUpdateFindingsV2) are served by no emulator (moto has
 * neither): the rehearsal's finding-source stand-in holds each rehearsed
 * finding, answers GetFindingsV2 and records each BatchUpdateFindingsV2.
 * The findings are the published SQS.1 control failing, in OCSF, re-aimed at
 * the seeded bucket as S3.8 (test/state-machines/events.ts).
 */
import { GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type PublicBucket, seedPublicBucket } from '../../demo/exposure.js';
import { findingSource } from '../../rehearsal/finding-source.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';
import { OCSF_AWS_PRODUCT, ocsfBucketControlFinding } from './events.js';
import { contextWith, explain, onlyExecution, rehearsalHarness } from './harness.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness({
  context: contextWith({ modes: { 's3-exposure': { blockPublicAccess: 'auto' } } }),
});
const s3 = new S3Client({ ...motoClientConfig(endpoint), forcePathStyle: true });

const START = ['Triage', 'Triage decision?', 'Update finding: picked up'];
const FINISH = [
  'Finished: from Security Hub?',
  'Update finding: finished',
  'Notify summary',
  'Done',
];

async function publicAccessBlock(bucket: PublicBucket) {
  try {
    const out = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name }));
    return out.PublicAccessBlockConfiguration ?? null;
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchPublicAccessBlockConfiguration') {
      return null;
    }
    throw error;
  }
}

const StatusIds = z.array(z.looseObject({ StatusId: z.number() }));

describe('s3-exposure in auto on a Security Hub OCSF control finding', () => {
  it('blocks public access unattended once GetFindingsV2 says the same, and writes back with BatchUpdateFindingsV2', async () => {
    const bucket = await seedPublicBucket();
    const updatesBefore = findingSource.updates.length;

    const report = await harness
      .engine('reject')
      .rehearse(ocsfBucketControlFinding(bucket, MOTO_ACCOUNT_ID));

    expect(report.matched).toEqual(['s3-exposure']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    // No responder was asked (they would have rejected): the step ran on its own.
    expect(execution.states).toEqual([
      ...START,
      'Block public access?',
      'Block public access',
      ...FINISH,
    ]);
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'CLAIMED',
      detail: { sourceCheck: { status: 'verified' }, productArn: OCSF_AWS_PRODUCT },
    });
    expect(await publicAccessBlock(bucket)).toMatchObject({
      BlockPublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const updates = StatusIds.parse(findingSource.updates.slice(updatesBefore));
    expect(updates.map((u) => u.StatusId)).toEqual([2, 4]);
  });

  it("a finding forger's control finding (the account's own productv2 default) waits for a responder, and the bucket stays as it was", async () => {
    const bucket = await seedPublicBucket();
    const forged = ocsfBucketControlFinding(bucket, MOTO_ACCOUNT_ID, {
      product: `arn:aws:securityhub:us-east-1:${MOTO_ACCOUNT_ID}:productv2/${MOTO_ACCOUNT_ID}/default`,
      productName: 'Default',
    });

    const report = await harness.engine('timeout').rehearse(forged);

    // The rule does not tell a forger's import from AWS's own finding: triage does.
    expect(report.matched).toEqual(['s3-exposure']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toContain('Block public access: request approval');
    expect(execution.states).not.toContain('Block public access');
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'CLAIMED',
      detail: { sourceCheck: { status: 'unverified' } },
    });
    expect(execution.ledger[0]?.summary).toMatch(/not on the Security Hub product allow-list/);
    expect(await publicAccessBlock(bucket)).toBeNull();
  });

  it('a control whose severity an editor raised (BatchUpdateFindingsV2) starts nothing, and forced past the rule acts on nothing unattended', async () => {
    const bucket = await seedPublicBucket();
    // The product said Medium (3); an editor made it Critical (5).
    const raised = ocsfBucketControlFinding(bucket, MOTO_ACCOUNT_ID, {
      severityId: 5,
      providerSeverityId: 3,
    });

    expect(harness.engine('timeout').match(raised)).toEqual([]);
    const forced = await harness.engine('timeout').execute(harness.playbook('s3-exposure'), raised);
    expect(forced.states).not.toContain('Block public access');
    expect(await publicAccessBlock(bucket)).toBeNull();
  });
});
