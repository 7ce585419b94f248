/**
 * The watch against moto: the insider's act is a real call to the emulator
 * (StopExecution on a running execution, PutParameter on the mode), the
 * event is the one AWS publishes for it (CloudTrail is not emulated: the
 * test delivers the documented event), and the watch's handler is built by
 * its factory from an environment naming moto's resources. What it records
 * is read back from moto's DynamoDB; what it publishes goes to moto's SNS.
 */
import {
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientOptions, documentClient } from '../../../functions/shared/aws.js';
import { incidentIdFrom } from '../../../functions/shared/incident.js';
import { Ledger } from '../../../functions/shared/ledger.js';
import { KmsLedgerMac } from '../../../functions/shared/ledger-mac.js';
import { ENV } from '../../../functions/shared/runtime-config.js';
import { makeHandler, WATCH_LEDGER } from '../../../functions/watch/core.js';
import { ensureTable } from '../../../rehearsal/resources.js';
import { lambdaContext } from '../../support/lambda-context.js';
import { ensureLedgerKey, TEST_LEDGER_KEY } from '../../support/ledger-mac.js';
import { MOTO_ACCOUNT_ID, useMoto } from '../../support/moto.js';
import { asEmail } from '../../support/notices.js';
import { defaultTemplate } from '../../support/template.js';
import { abortedEvent, apiCallEvent, FINDING, MODE_PARAMETER } from './fixtures.js';

useMoto();

const LEDGER_TABLE = 'cordon-ledger';
const WATCH_ROLE = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/cordon/CordonWatchRole`;
const INCIDENT = incidentIdFrom('guardduty|a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01|iam-credentials');
const CONTEXT = lambdaContext('watch');

let ledgerTable: unknown;
let sfn: SFNClient;
let sns: SNSClient;
let ledger: Ledger;
let machineArn: string;
let topicArn: string;

beforeAll(() => {
  const tables = Object.values(defaultTemplate().json.Resources).filter(
    (r) => r.Type === 'AWS::DynamoDB::GlobalTable',
  );
  ledgerTable = tables.find((t) =>
    JSON.stringify(t.Properties?.KeySchema).includes('"seq"'),
  )?.Properties;
});

beforeEach(async () => {
  sfn = new SFNClient(clientOptions);
  sns = new SNSClient(clientOptions);
  ledger = new Ledger({
    client: documentClient(),
    tableName: LEDGER_TABLE,
    now: () => new Date(),
    mac: new KmsLedgerMac(await ensureLedgerKey()),
  });
  await ensureTable(LEDGER_TABLE, ledgerTable);
  topicArn =
    (await sns.send(new CreateTopicCommand({ Name: 'cordon-notifications' }))).TopicArn ?? '';
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: 'IamCredentialsStateMachine-watch',
      definition: JSON.stringify({
        StartAt: 'Wait',
        States: { Wait: { Type: 'Pass', End: true } },
      }),
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/cordon/IamCredentialsRole`,
    }),
  );
  machineArn = machine.stateMachineArn ?? '';
});

/** The watch as Lambda runs it, built from its environment, with its publishes observed. */
function watchHandler() {
  const publish = vi.spyOn(sns, 'send');
  const handler = makeHandler(
    {
      [ENV.action]: 'watch',
      [ENV.actor]: WATCH_ROLE,
      [ENV.ledgerTable]: LEDGER_TABLE,
      [ENV.ledgerKey]: TEST_LEDGER_KEY,
      [ENV.topicArn]: topicArn,
      [ENV.watch]: JSON.stringify({
        machines: [{ arn: machineArn, name: 'iam-credentials' }],
        runtimeModeParameter: MODE_PARAMETER,
      }),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
    { sns, sfn, ssm: new SSMClient(clientOptions) },
  );
  const published = () =>
    publish.mock.calls
      .map(([command]) => command)
      .filter((c) => c instanceof PublishCommand)
      .map((c) => asEmail(c.input));
  return { handler: (event: unknown) => handler(event, CONTEXT), published };
}

describe('the watch against moto', () => {
  it("records an insider's StopExecution in the incident's ledger and notifies it, once", async () => {
    // Arrange: a playbook execution on a finding, whose incident triage claimed.
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(FINDING()) }),
    );
    const executionArn = started.executionArn ?? '';
    await ledger.claim(INCIDENT, {
      step: 'triage',
      action: 'triage',
      actor: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/cordon/CordonTriageRole`,
      outcome: 'CLAIMED',
      executionArn,
    });
    const { handler, published } = watchHandler();

    // Act: the insider stops it; Step Functions announces the abort.
    await sfn.send(new StopExecutionCommand({ executionArn }));
    const event = abortedEvent(executionArn, machineArn);
    const result = await handler(event);
    const again = await handler(event);

    // Assert
    expect(result).toMatchObject({ status: 'recorded', ledgerId: INCIDENT, appended: true });
    expect(again).toMatchObject({ appended: false, notified: false });
    const entries = await ledger.entries(INCIDENT);
    expect(entries.map((e) => e.outcome)).toEqual(['CLAIMED', 'ABORTED', 'NOTIFIED']);
    expect(entries[1]).toMatchObject({ actor: WATCH_ROLE, executionArn });
    expect(await ledger.verify(entries)).toBeUndefined();
    const notices = published();
    expect(notices).toHaveLength(1);
    expect(notices[0]?.Subject).toBe(
      'Cordon execution ABORTED: iam-credentials: containment did not finish',
    );
    expect(notices[0]?.Message).toContain(`Execution: "${executionArn}"`);
    expect(notices[0]?.Message).toContain(`Incident: ${INCIDENT}`);
  });

  it('records nothing for an ABORTED event about an execution still running (forged)', async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(FINDING()) }),
    );
    const { handler, published } = watchHandler();

    const result = await handler(abortedEvent(started.executionArn ?? '', machineArn));

    expect(result).toMatchObject({ status: 'ignored' });
    expect(await ledger.entries(INCIDENT)).toEqual([]);
    expect(published()).toEqual([]);
  });

  it('notifies who set the mode to off, and records it with what the parameter reads', async () => {
    // Arrange: the insider sets the mode.
    await new SSMClient(clientOptions).send(
      new PutParameterCommand({
        Name: MODE_PARAMETER,
        Value: 'off',
        Type: 'String',
        Overwrite: true,
      }),
    );
    const { handler, published } = watchHandler();

    // Act: CloudTrail's record of the call arrives.
    const result = await handler(apiCallEvent('cloudtrail-ssm-put-parameter.json'));

    // Assert
    expect(result).toMatchObject({ status: 'recorded', ledgerId: WATCH_LEDGER.runtimeMode });
    const [entry] = await ledger.entries(WATCH_LEDGER.runtimeMode);
    expect(entry?.detail).toMatchObject({
      nowReads: 'off',
      call: expect.objectContaining({
        callerArn: 'arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName',
      }),
    });
    expect(published()[0]?.Message).toContain(
      'Called by: "arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName"',
    );
  });
});
