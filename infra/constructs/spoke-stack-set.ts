import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aws, CfnOutput, CfnStackSet, Fn, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { SPOKES } from '../../functions/registry.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import type { OrganizationConfig } from '../config.js';
import { CordonMemberStack, MEMBER_PARAMETERS } from '../member-stack.js';

/** The hub's output listing the member template's parameter values, for members deployed by their own pipelines. */
export const MEMBER_PARAMETERS_OUTPUT = 'CordonMemberParameters';

/**
 * The most a StackSet takes as a template in S3 (TemplateURL): 460,800
 * bytes, as CreateStackSet documents it (TemplateBody, inline, takes 51,200:
 * too few for the spoke roles of more than two regions).
 */
export const TEMPLATE_URL_MAX_BYTES = 460_800;

export interface SpokeStackSetProps {
  readonly organization: OrganizationConfig;
  /** The hub function role each spoke role trusts, by function. */
  readonly hubRoles: (fn: FunctionName) => iam.IRole;
  /** Principals no spoke role may write to. */
  readonly breakGlassPrincipalArns: readonly string[];
}

/**
 * The member accounts' spoke roles, deployed by the hub: a service-managed
 * StackSet of the member template (CordonMemberStack, roles only), with
 * automatic deployment to the configured organizational units, so an
 * account that joins one gets its spoke roles with nobody acting (and one
 * that leaves loses them). IAM is global: one stack instance per account,
 * in the hub's region, or the role names would collide. The excluded
 * accounts get none. StackSets never deploy to the organization's
 * management account (README, Organization-wide).
 */
export class SpokeStackSet extends Construct {
  readonly stackSet: CfnStackSet;
  /** The member template, as the StackSet deploys it. */
  readonly templateBody: string;
  /** Where the StackSet reads it: a file asset of the hub stack, in CDK's bootstrap bucket. */
  readonly templateAsset: s3assets.Asset;
  /**
   * The hub deployment's part of every external id, in this stack (the UUID
   * of `AWS::StackId`): what the hub's functions pass to `externalIdFor`.
   */
  readonly hubDeployment: string;
  /** Every region the spoke roles act in: the hub's, then `organization.regions`. */
  readonly regions: readonly string[];

  constructor(scope: Construct, id: string, props: SpokeStackSetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { organization } = props;
    this.regions = spokeRegions(stack, organization);
    this.templateBody = memberTemplate(this, {
      regions: this.regions,
      breakGlassPrincipalArns: props.breakGlassPrincipalArns,
    });
    this.templateAsset = templateAsset(this, this.templateBody);
    // The UUID of this stack's id: the hub deployment's part of every
    // external id (deploymentOf in functions/shared/organization.ts).
    const hubDeployment = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    this.hubDeployment = hubDeployment;
    const parameters: Record<string, string> = {
      [MEMBER_PARAMETERS.organizationId]: organization.organizationId,
      [MEMBER_PARAMETERS.hubDeployment]: hubDeployment,
      ...Object.fromEntries(
        SPOKES.map((spec) => [
          MEMBER_PARAMETERS.hubRole(spec.name),
          props.hubRoles(spec.name).roleArn,
        ]),
      ),
    };
    const excluded = organization.excludedAccounts;
    this.stackSet = new CfnStackSet(this, 'StackSet', {
      stackSetName: `${stack.stackName}-spokes`,
      description: "Cordon member accounts: the spoke roles the hub's functions act through",
      permissionModel: 'SERVICE_MANAGED',
      callAs: organization.callAs,
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ['CAPABILITY_NAMED_IAM'],
      // Every account at once; one account's failure holds back no other.
      operationPreferences: {
        regionConcurrencyType: 'PARALLEL',
        maxConcurrentPercentage: 100,
        failureTolerancePercentage: 100,
      },
      parameters: Object.entries(parameters).map(([parameterKey, parameterValue]) => ({
        parameterKey,
        parameterValue,
      })),
      stackInstancesGroup: [
        {
          // Never the hub itself: its own findings are acted on by its own
          // roles, which the fences keep off Cordon's roles and functions;
          // a spoke role there would hold the same writes unfenced.
          deploymentTargets: {
            organizationalUnitIds: [...organization.organizationalUnits],
            accountFilterType: 'DIFFERENCE',
            accounts: [...excluded, stack.account],
          },
          regions: [stack.region],
        },
      ],
      templateUrl: this.templateAsset.httpUrl,
    });
    new CfnOutput(this, MEMBER_PARAMETERS_OUTPUT, {
      key: MEMBER_PARAMETERS_OUTPUT,
      value: stack.toJsonString(parameters),
      description:
        "Parameters of the member template (CordonMemberStack) for accounts the StackSet cannot reach, such as the organization's management account",
    });
  }
}

/**
 * The regions the spoke roles act in: the configured ones and the hub's
 * own (where it deploys them, and where a single-account Cordon acts). The
 * hub's region must be known at synthesis: the member template names every
 * region as written, so that it reads the same in every account.
 */
export function spokeRegions(stack: Stack, organization: OrganizationConfig): string[] {
  if (Token.isUnresolved(stack.region)) {
    throw new Error(
      "Organization-wide, the hub's region must be known at synthesis, since the spoke roles name it: set cordon.region, or the CLI's region (CDK_DEFAULT_REGION)",
    );
  }
  return [...new Set([stack.region, ...organization.regions])];
}

/**
 * The member template, synthesized in an app of its own (it is a stack of
 * its own, deployed elsewhere), with the hub's IAM feature flag so its
 * policies read as the hub's do; too big for a StackSet fails here.
 */
function memberTemplate(
  scope: Construct,
  member: { regions: readonly string[]; breakGlassPrincipalArns: readonly string[] },
): string {
  const minimize = scope.node.tryGetContext('@aws-cdk/aws-iam:minimizePolicies');
  // CDK's CloudFormation validation runs on the hub's template; the member
  // stack's own synthesis (and its test) validates this one.
  // Its own output directory: under `cdk synth` an app's default is the
  // CLI's (CDK_OUTDIR), where this one's manifest would overwrite the hub's.
  const outdir = mkdtempSync(join(tmpdir(), 'cordon-member-'));
  const app = new App({
    outdir,
    analyticsReporting: false,
    builtinCloudFormationValidation: false,
    ...(minimize === undefined
      ? {}
      : { context: { '@aws-cdk/aws-iam:minimizePolicies': minimize } }),
  });
  const stack = new CordonMemberStack(app, 'CordonMember', member);
  let body: string;
  try {
    body = JSON.stringify(app.synth().getStackByName(stack.stackName).template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const bytes = Buffer.byteLength(body);
  if (bytes > TEMPLATE_URL_MAX_BYTES) {
    throw new Error(
      `the member template is ${bytes} bytes for ${member.regions.length} regions (${member.regions.join(', ')}); a StackSet takes at most ${TEMPLATE_URL_MAX_BYTES}: list fewer organization.regions`,
    );
  }
  return body;
}

/**
 * The member template as a file asset of the hub stack: published with its
 * functions' code to CDK's bootstrap bucket in the hub's account, where
 * CloudFormation reads it when it creates or updates the StackSet. Only the
 * template: the members themselves read nothing from the bucket.
 */
function templateAsset(scope: Construct, body: string): s3assets.Asset {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-member-template-'));
  try {
    const path = join(dir, 'member.template.json');
    writeFileSync(path, body);
    // Staged (copied into the cloud assembly) as it is constructed.
    return new s3assets.Asset(scope, 'MemberTemplate', { path });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
