import {
  BootstraplessSynthesizer,
  CfnParameter,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SPOKES } from '../functions/registry.js';
import type { FunctionName } from '../functions/shared/catalog.js';
import { CordonMember } from './constructs/member.js';
import { pascal } from './names.js';

/** The member template's parameters, as the hub's StackSet passes them (and its `MemberParameters` output lists them). */
export const MEMBER_PARAMETERS = {
  organizationId: 'OrganizationId',
  hubDeployment: 'HubDeployment',
  /** One per spoke: the hub function role it trusts. */
  hubRole: (fn: FunctionName) => `HubRole${pascal(fn)}`,
} as const;

export interface CordonMemberStackProps extends Omit<StackProps, 'synthesizer'> {
  /**
   * Every region the spoke roles act in, as `CordonMemberProps.regions`:
   * the hub's `organization.regions` and the hub's own region.
   */
  readonly regions: readonly string[];
  /**
   * Principals no spoke role may write to: the hub's `breakGlassPrincipalArns`.
   * @default none
   */
  readonly breakGlassPrincipalArns?: readonly string[];
}

/**
 * A member account's spoke roles as a stack of their own, for teams that
 * deploy members through their own pipelines (the hub's StackSet deploys
 * this same template). The organization, the hub deployment and each hub
 * function role enter as parameters: the hub's `MemberParameters` output
 * lists their values. Roles only, and synthesized without CDK's bootstrap
 * check: no asset, no bootstrap version rule, so it deploys into an account
 * that was never bootstrapped.
 */
export class CordonMemberStack extends Stack {
  readonly member: CordonMember;

  constructor(scope: Construct, id: string, props: CordonMemberStackProps) {
    const { breakGlassPrincipalArns, regions, ...stackProps } = props;
    super(scope, id, {
      analyticsReporting: false,
      description: "Cordon member account: the spoke roles the hub's functions act through",
      ...stackProps,
      synthesizer: new BootstraplessSynthesizer(),
    });
    const organizationId = new CfnParameter(this, MEMBER_PARAMETERS.organizationId, {
      description: "The hub's organization id",
      allowedPattern: '^o-[a-z0-9]{10,32}$',
    });
    const hubDeployment = new CfnParameter(this, MEMBER_PARAMETERS.hubDeployment, {
      description: "The UUID of the hub stack's id: part of every external id",
      allowedPattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    });
    const hubRoles = new Map(
      SPOKES.map((spec) => {
        const parameter = new CfnParameter(this, MEMBER_PARAMETERS.hubRole(spec.name), {
          description: `The hub's ${spec.name} function role`,
          allowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]+$',
        });
        return [spec.name, parameter] as const;
      }),
    );
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W2509',
      reason:
        'The HubRole parameters are role ARNs, not passwords: HubRoleRotateSecret and HubRoleLockSecret are named after their functions',
    });
    this.member = new CordonMember(this, 'Member', {
      organizationId: organizationId.valueAsString,
      regions,
      hubDeployment: hubDeployment.valueAsString,
      hubRoleArns: (fn) => {
        const parameter = hubRoles.get(fn);
        if (!parameter) throw new Error(`${fn} has no spoke role`);
        return parameter.valueAsString;
      },
      ...(breakGlassPrincipalArns ? { breakGlassPrincipalArns } : {}),
    });
  }
}
