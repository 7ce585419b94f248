import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ActionName } from '../../functions/shared/catalog.js';
import { CORDON_ROLE_PATH, ENV } from '../../functions/shared/runtime-config.js';
import { unscopedReason } from '../unscoped.js';
import type { LedgerTable } from './ledger-table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ActionFunctionProps {
  readonly action: ActionName;
  /** Every function appends to the ledger. */
  readonly ledger: LedgerTable;
  /** Extra environment variables. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 256 MiB */
  readonly memorySize?: number;
  /** @default one year */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One containment action: its own role (path `/cordon/`, so triage always
 * protects it), its own log group, Node.js 24 on arm64, X-Ray tracing,
 * bundled with local esbuild (AWS SDK included, so behaviour does not
 * change with the runtime's SDK). The role starts empty except for logging
 * and the ledger; callers add exactly the calls the function makes.
 */
export class ActionFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly action: ActionName;

  constructor(scope: Construct, id: string, props: ActionFunctionProps) {
    super(scope, id);
    this.action = props.action;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      path: CORDON_ROLE_PATH,
      description: `Cordon ${props.action}: only the calls this action makes`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(ROOT, 'functions', props.action, 'handler.ts'),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `Cordon ${props.action}`,
      environment: {
        [ENV.action]: props.action,
        [ENV.actor]: this.role.roleArn,
        [ENV.ledgerTable]: props.ledger.table.tableName,
        POWERTOOLS_SERVICE_NAME: 'cordon',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: [],
        mainFields: ['module', 'main'],
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        forceDockerBundling: false,
      },
    });
    props.ledger.grantAppend(this.role);
    // The role is ours (no AWSLambdaBasicExecutionRole), so logging is granted
    // here: CreateLogStream and PutLogEvents on this function's log group only.
    logGroup.grantWrite(this.role);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: unscopedReason(props.action),
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked synchronously by Step Functions only; errors return to the state machine, which retries and catches them, so an asynchronous-invocation DLQ would never receive anything',
    });
  }

  /** Adds environment variables that name resources created after the function. */
  addEnvironment(variables: Readonly<Record<string, string>>): void {
    for (const [key, value] of Object.entries(variables)) this.function.addEnvironment(key, value);
  }

  /** Adds a statement for a call the action makes that no L2 grant covers. */
  allow(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}
