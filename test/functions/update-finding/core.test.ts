import 'aws-sdk-client-mock-vitest/extend';
import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ActionResult } from '../../../functions/shared/incident.js';
import {
  NOTE_MAX,
  type UpdateFindingInput,
  UpdateFindingInputSchema,
  updateFinding,
} from '../../../functions/update-finding/core.js';
import { OCSF_STATUS_IDS, ocsfStatusId } from '../../../functions/update-finding/status.js';
import {
  ACTOR,
  awsError,
  EXECUTION_ARN,
  fakeLedger,
  incident,
} from '../shared/containment-fixtures.js';

const PRODUCT_ARN = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
const hubMock = mockClient(SecurityHubClient);
const securityHub = new SecurityHubClient({ region: 'us-east-1' });
const hubIncident = incident({
  source: 'securityhub',
  productArn: PRODUCT_ARN,
  findingId: 'arn:aws:securityhub:finding/1',
});

const result = (
  step: string,
  outcome: ActionResult['outcome'],
  summary = 'did it',
): ActionResult => ({
  step,
  action: 'disable-access-key',
  outcome,
  mode: 'auto',
  summary,
});

const input = (over: Partial<UpdateFindingInput> = {}): UpdateFindingInput =>
  UpdateFindingInputSchema.parse({
    incident: hubIncident,
    phase: 'FINISH',
    executionArn: EXECUTION_ARN,
    ...over,
  });

describe('update-finding', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    hubMock.reset();
    hubMock
      .on(BatchUpdateFindingsCommand)
      .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    fake = fakeLedger();
  });
  const deps = () => ({ securityHub, ledger: fake.ledger, actor: ACTOR });

  it('marks the finding NOTIFIED with a pickup note when containment starts', async () => {
    // Act
    const out = await updateFinding(input({ phase: 'PICKUP' }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'NOTIFIED' });
    expect(hubMock).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      FindingIdentifiers: [{ Id: hubIncident.findingId, ProductArn: PRODUCT_ARN }],
      Workflow: { Status: 'NOTIFIED' },
      Note: {
        Text: `Cordon ${hubIncident.incidentId}: containment started (iam-credentials)`,
        UpdatedBy: 'cordon',
      },
    });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        step: 'finding',
        action: 'update-finding',
        outcome: 'FINDING_UPDATED',
        detail: { status: 'NOTIFIED', phase: 'PICKUP' },
      }),
    ]);
  });

  it('resolves the finding when every step contained or was already contained', async () => {
    // Arrange
    const results = {
      disableAccessKey: result('disableAccessKey', 'CONTAINED'),
      revokeUserSessions: result('revokeUserSessions', 'ALREADY_CONTAINED'),
    };
    // Act
    const out = await updateFinding(input({ results }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'RESOLVED' });
    expect(hubMock).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      Workflow: { Status: 'RESOLVED' },
    });
  });

  it('keeps the finding NOTIFIED and lists each step outcome when a step did not act', async () => {
    // Arrange
    const results = {
      disableAccessKey: result('disableAccessKey', 'CONTAINED'),
      quarantineUser: result('quarantineUser', 'NOT_ACTED_ON', 'approval timed out'),
    };
    // Act
    const out = await updateFinding(input({ results }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'NOTIFIED' });
    const text = hubMock.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input.Note?.Text;
    expect(text).toContain('disableAccessKey: CONTAINED (did it)');
    expect(text).toContain('quarantineUser: NOT_ACTED_ON (approval timed out)');
    expect(hubMock).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      Workflow: { Status: 'NOTIFIED' },
    });
  });

  it('resolves the finding when every step that applies contained it, leaving out the steps that do not apply', async () => {
    // Arrange: a role's finding; the user steps do not apply to it.
    const roleIncident = {
      ...hubIncident,
      plan: {
        disableAccessKey: {
          mode: 'off' as const,
          reason: 'applies to IAM users only',
          applies: false as const,
        },
        revokeRoleSessions: { mode: 'approve' as const },
      },
    };
    const results = {
      disableAccessKey: result('disableAccessKey', 'OFF', 'step is off or does not apply'),
      revokeRoleSessions: result('revokeRoleSessions', 'CONTAINED'),
    };
    // Act
    const out = await updateFinding(input({ incident: roleIncident, results }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'RESOLVED' });
    const text = hubMock.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input.Note?.Text;
    expect(text).toContain('revokeRoleSessions: CONTAINED');
    expect(text).not.toContain('disableAccessKey');
  });

  it('keeps the finding NOTIFIED when a step that applies was turned off', async () => {
    // Arrange: the same step off by configuration (no `applies: false`): not contained.
    const results = {
      disableAccessKey: result('disableAccessKey', 'OFF', 'step is off or does not apply'),
      revokeUserSessions: result('revokeUserSessions', 'CONTAINED'),
    };
    // Act
    const out = await updateFinding(input({ results }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'NOTIFIED' });
  });

  it('does not resolve a finding when no step ran', async () => {
    // Act
    const out = await updateFinding(input({ results: {} }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'NOTIFIED' });
  });

  it('does not resolve a finding whose steps only dry-ran', async () => {
    // Act
    const out = await updateFinding(input({ results: { a: result('a', 'DRY_RUN') } }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'NOTIFIED' });
  });

  it(`bounds the note to ${NOTE_MAX} characters on one line`, async () => {
    // Arrange
    const results = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        `step${i}`,
        result(`step${i}`, 'FAILED', `failed: ${'x'.repeat(100)}\nInjected: line`),
      ]),
    );
    // Act
    await updateFinding(input({ results }), deps());
    // Assert
    const text =
      hubMock.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input.Note?.Text ?? '';
    expect(text.length).toBeLessThanOrEqual(NOTE_MAX);
    expect(text.length).toBeGreaterThan(NOTE_MAX - 10);
    expect(text).not.toContain('\n');
    expect(text.endsWith('...')).toBe(true);
  });

  it('does nothing for a GuardDuty finding', async () => {
    // Act
    const out = await updateFinding(input({ incident: incident() }), deps());
    // Assert
    expect(out).toEqual({ updated: false, reason: expect.stringContaining('guardduty') });
    expect(hubMock).not.toHaveReceivedAnyCommand();
    expect(fake.entries()).toEqual([]);
  });

  it('fails with Cordon.InvalidTaskInput for a Security Hub incident without a product ARN', async () => {
    // Act
    const attempt = updateFinding(input({ incident: incident({ source: 'securityhub' }) }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    expect(hubMock).not.toHaveReceivedAnyCommand();
  });

  it('throws retryable Cordon.ServiceUnavailable for a finding left unprocessed by a concurrent update', async () => {
    // Arrange
    hubMock.on(BatchUpdateFindingsCommand).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: hubIncident.findingId, ProductArn: PRODUCT_ARN },
          ErrorCode: 'ConcurrentUpdateError',
          ErrorMessage: 'Concurrent finding updates detected',
        },
      ],
    });
    // Act
    const attempt = updateFinding(input({ phase: 'PICKUP' }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.ServiceUnavailable',
      retryable: true,
    });
    expect(fake.entries()).toEqual([]);
  });

  it('throws a terminal error for a finding that does not exist', async () => {
    // Arrange
    hubMock.on(BatchUpdateFindingsCommand).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: hubIncident.findingId, ProductArn: PRODUCT_ARN },
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'Finding Not Found',
        },
      ],
    });
    // Act
    const attempt = updateFinding(input({ phase: 'PICKUP' }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.UnexpectedAwsError',
      retryable: false,
    });
  });

  it('surfaces throttling as retryable Cordon.Throttled, and a later attempt succeeds', async () => {
    // Arrange
    hubMock
      .on(BatchUpdateFindingsCommand)
      .rejectsOnce(awsError('TooManyRequestsException', 429))
      .resolves({ UnprocessedFindings: [] });
    // Act
    await expect(updateFinding(input({ phase: 'PICKUP' }), deps())).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
    const out = await updateFinding(input({ phase: 'PICKUP' }), deps());
    // Assert
    expect(out).toEqual({ updated: true, status: 'NOTIFIED' });
    expect(fake.entries()).toHaveLength(1);
  });

  it('rejects an input with an unknown field (strict contract)', () => {
    expect(UpdateFindingInputSchema.safeParse({ ...input(), taskToken: 'x' }).success).toBe(false);
  });

  describe('an OCSF finding (Security Hub V2; no emulator serves its API: aws-sdk-client-mock)', () => {
    const PRODUCT_V2 = 'arn:aws:securityhub:us-east-1::productv2/aws/macie';
    const ocsfIncident = incident({
      source: 'securityhub',
      productArn: PRODUCT_V2,
      findingId: 'arn:aws:macie2:us-east-1:123456789012:finding/1',
    });
    const ocsfInput = (over: Partial<UpdateFindingInput> = {}) =>
      input({ incident: ocsfIncident, ...over });
    const identifier = {
      CloudAccountUid: ocsfIncident.account,
      FindingInfoUid: ocsfIncident.findingId,
      MetadataProductUid: PRODUCT_V2,
    };
    beforeEach(() => {
      hubMock
        .on(BatchUpdateFindingsV2Command)
        .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    });

    it('sets status_id 2 (In Progress) with a comment on pickup, through BatchUpdateFindingsV2 only', async () => {
      const out = await updateFinding(ocsfInput({ phase: 'PICKUP' }), deps());

      expect(out).toEqual({ updated: true, status: 'NOTIFIED' });
      expect(hubMock).toHaveReceivedCommandWith(BatchUpdateFindingsV2Command, {
        FindingIdentifiers: [identifier],
        StatusId: 2,
        Comment: `Cordon ${ocsfIncident.incidentId}: containment started (iam-credentials)`,
      });
      expect(hubMock).not.toHaveReceivedCommand(BatchUpdateFindingsCommand);
    });

    it('sets status_id 4 (Resolved) once every step is contained, and never names SeverityId', async () => {
      const out = await updateFinding(
        ocsfInput({ results: { disableAccessKey: result('disableAccessKey', 'CONTAINED') } }),
        deps(),
      );

      expect(out).toEqual({ updated: true, status: 'RESOLVED' });
      const [call] = hubMock.commandCalls(BatchUpdateFindingsV2Command);
      expect(Object.keys(call?.args[0].input ?? {}).sort()).toEqual([
        'Comment',
        'FindingIdentifiers',
        'StatusId',
      ]);
      expect(call?.args[0].input.StatusId).toBe(4);
    });

    it('refuses to build a StatusId other than the two its role allows: never Suppressed, New or any other', () => {
      expect(ocsfStatusId('NOTIFIED')).toBe(2);
      expect(ocsfStatusId('RESOLVED')).toBe(4);
      expect(OCSF_STATUS_IDS).toEqual([2, 4]);

      // What a tampered input or a careless change would ask for.
      for (const status of ['SUPPRESSED', 'NEW', 'ARCHIVED', 'resolved', '', 'constructor']) {
        expect(() => ocsfStatusId(status), status).toThrow(
          expect.objectContaining({ name: 'Cordon.InvalidTaskInput' }),
        );
      }
    });

    it('throws retryable Cordon.ServiceUnavailable for a finding left unprocessed by a conflicting update', async () => {
      hubMock.on(BatchUpdateFindingsV2Command).resolves({
        ProcessedFindings: [],
        UnprocessedFindings: [
          { FindingIdentifier: identifier, ErrorCode: 'ConflictException', ErrorMessage: 'busy' },
        ],
      });

      const attempt = updateFinding(ocsfInput({ phase: 'PICKUP' }), deps());

      await expect(attempt).rejects.toMatchObject({
        name: 'Cordon.ServiceUnavailable',
        retryable: true,
        message: expect.stringContaining('BatchUpdateFindingsV2 did not update the finding'),
      });
      expect(fake.entries()).toEqual([]);
    });

    it('throws a terminal error for a finding Security Hub does not have', async () => {
      hubMock.on(BatchUpdateFindingsV2Command).resolves({
        ProcessedFindings: [],
        UnprocessedFindings: [
          { FindingIdentifier: identifier, ErrorCode: 'ResourceNotFoundException' },
        ],
      });

      const attempt = updateFinding(ocsfInput({ phase: 'PICKUP' }), deps());

      await expect(attempt).rejects.toMatchObject({ retryable: false });
    });
  });
});
