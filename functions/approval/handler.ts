import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type {
  APIGatewayProxyStructuredResultV2,
  LambdaFunctionURLEventWithIAMAuthorizer,
} from 'aws-lambda';
import { z } from 'zod';
import { ApprovalStore } from '../shared/approval-store.js';
import { clientOptions } from '../shared/aws.js';
import { bootAction } from '../shared/boot.js';
import { CircuitBreaker } from '../shared/breaker.js';
import { requireEnv, requireJsonEnv } from '../shared/env.js';
import { ENV } from '../shared/runtime-config.js';
import { ApprovalService } from './core.js';
import { route } from './http.js';

const { logger, ledger, dynamo } = bootAction('approval');
const service = new ApprovalService({
  store: new ApprovalStore({
    client: dynamo,
    tableName: requireEnv(ENV.approvalsTable),
  }),
  ledger,
  sfn: new SFNClient(clientOptions),
  breaker: new CircuitBreaker({
    client: dynamo,
    tableName: requireEnv(ENV.guardrailsTable),
  }),
  responders: requireJsonEnv(ENV.responders, (v) => z.array(z.string()).parse(v)),
  rollbackStateMachineArn: requireEnv(ENV.rollbackStateMachine),
  logger,
});

// The event is never logged: it carries the caller's signed headers.
export const handler = middy(
  (event: LambdaFunctionURLEventWithIAMAuthorizer): Promise<APIGatewayProxyStructuredResultV2> =>
    route(event, service, logger),
).use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
