/**
 * The playbooks Cordon ships, their steps, and each step's default mode. This
 * is the single source for infra (config validation, state machines) and for
 * triage (deciding each step's mode), so the two can never disagree.
 */

export const MODES = ['auto', 'approve', 'dry-run', 'off'] as const;
export type Mode = (typeof MODES)[number];

/** Lambda-backed actions; each is a folder in `functions/` with its own role. */
export const ACTIONS = [
  'triage',
  'disable-access-key',
  'revoke-sessions',
  'quarantine-user',
  'update-finding',
  'notify',
  'record-failure',
  'request-approval',
  'preserve-evidence',
  'detach-from-asg',
  'isolate-network',
  'detach-instance-profile',
  'rotate-secret',
  'lock-secret',
  'quarantine-function',
  'block-public-access',
  /** The approval endpoint: records responders' decisions and sends them to Step Functions. */
  'approval',
  /** Rollback: reads the ledger and lists what a rollback of an incident would restore. */
  'rollback-plan',
  'rollback-access-key',
  'rollback-session-revocation',
  'rollback-user-quarantine',
  'rollback-network-isolation',
  'rollback-instance-profile',
  'rollback-asg-detach',
  'rollback-secret-lock',
  'rollback-function-quarantine',
  'rollback-public-access',
] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface FollowOnAction {
  readonly action: ActionName;
  /** Key of its result under `$.results`. */
  readonly key: string;
}

export interface StepSpec {
  /** The function that performs the step; its result lands at `$.results.<step>`. */
  readonly action: ActionName;
  /**
   * Actions that run after `action`, in order, under the same mode and the
   * same approval: one decision for one containment stage.
   */
  readonly followedBy?: readonly FollowOnAction[];
  /** Mode used when configuration does not set one. */
  readonly defaultMode: Mode;
  /** What the step does, for notifications, approval requests and docs. */
  readonly summary: string;
}

export const PLAYBOOKS = {
  'iam-credentials': {
    summary: 'Contains compromised IAM credentials: access keys, users and assumed roles.',
    steps: {
      disableAccessKey: {
        action: 'disable-access-key',
        defaultMode: 'auto',
        summary: 'Disable the access key named in the finding',
      },
      revokeUserSessions: {
        action: 'revoke-sessions',
        defaultMode: 'auto',
        summary: "Deny the user's temporary credentials issued before now",
      },
      quarantineUser: {
        action: 'quarantine-user',
        defaultMode: 'approve',
        summary: 'Attach a deny-all policy to the user and delete its console password',
      },
      revokeRoleSessions: {
        action: 'revoke-sessions',
        defaultMode: 'approve',
        summary: 'Deny every session of the role issued before now (all of its users)',
      },
    },
  },
  'ec2-instance': {
    summary: 'Keeps the evidence of a compromised EC2 instance, then isolates it.',
    steps: {
      preserveEvidence: {
        action: 'preserve-evidence',
        defaultMode: 'auto',
        summary:
          'Keep the evidence: termination protection on, stop on shutdown, keep every volume on termination, tag the instance, snapshot every volume',
      },
      isolate: {
        action: 'detach-from-asg',
        followedBy: [
          { action: 'isolate-network', key: 'isolateNetwork' },
          { action: 'detach-instance-profile', key: 'detachInstanceProfile' },
        ],
        defaultMode: 'approve',
        summary:
          'Take the instance out of its Auto Scaling group, isolate every network interface, detach its instance profile',
      },
      revokeInstanceRoleSessions: {
        action: 'revoke-sessions',
        defaultMode: 'approve',
        summary: "Deny every session of the instance's role issued before now (all of its users)",
      },
    },
  },
  'secret-exposure': {
    summary: 'Rotates an exposed secret, or locks it when it has no rotation.',
    steps: {
      rotateSecret: {
        action: 'rotate-secret',
        defaultMode: 'approve',
        summary:
          'Rotate the secret now with its configured rotation, and check that a new version became AWSCURRENT',
      },
      lockSecret: {
        action: 'lock-secret',
        defaultMode: 'approve',
        summary:
          'Deny reading the secret to everyone but the break-glass principals; rotation is not configured, so it must be rotated by hand',
      },
    },
  },
  'integration-quarantine': {
    summary: 'Stops a compromised Lambda function and revokes its role.',
    steps: {
      stopInvocations: {
        action: 'quarantine-function',
        defaultMode: 'approve',
        summary: "Set the function's reserved concurrency to 0, so no invocation runs",
      },
      revokeFunctionRoleSessions: {
        action: 'revoke-sessions',
        defaultMode: 'approve',
        summary: "Deny every session of the function's execution role issued before now",
      },
    },
  },
  's3-exposure': {
    summary: 'Blocks public access to an exposed S3 bucket.',
    steps: {
      blockPublicAccess: {
        action: 'block-public-access',
        defaultMode: 'approve',
        summary: 'Turn on all four bucket-level public access block settings',
      },
    },
  },
} as const satisfies Record<
  string,
  { readonly summary: string; readonly steps: Record<string, StepSpec> }
>;

export type PlaybookName = keyof typeof PLAYBOOKS;
export const PLAYBOOK_NAMES = Object.keys(PLAYBOOKS) as PlaybookName[];
export type StepId<P extends PlaybookName = PlaybookName> = keyof (typeof PLAYBOOKS)[P]['steps'] &
  string;

export function stepsOf(playbook: PlaybookName): Record<string, StepSpec> {
  return PLAYBOOKS[playbook].steps;
}

export function allStepIds(): string[] {
  return PLAYBOOK_NAMES.flatMap((p) => Object.keys(stepsOf(p)));
}

/** Every action a step runs, in order: its own, then its follow-on actions. */
export function actionsOfStep(spec: StepSpec): ActionName[] {
  return [spec.action, ...(spec.followedBy ?? []).map((f) => f.action)];
}

/** Builds a record with one value per action, typed without casts. */
export function byAction<T>(make: (action: ActionName) => T): Record<ActionName, T> {
  const out = {} as Record<ActionName, T>;
  for (const action of ACTIONS) out[action] = make(action);
  return out;
}

/** Actions every playbook's frame runs: triage, finding updates, notices, failures. */
export const FRAME_ACTIONS: readonly ActionName[] = [
  'triage',
  'update-finding',
  'notify',
  'record-failure',
];

/** Every action a playbook's state machine invokes. */
export function actionsOfPlaybook(playbook: PlaybookName): ActionName[] {
  const steps = Object.values(stepsOf(playbook));
  const needsApproval = steps.length > 0 ? (['request-approval'] as const) : [];
  return [...new Set([...FRAME_ACTIONS, ...needsApproval, ...steps.flatMap(actionsOfStep)])];
}

/**
 * The action that undoes each containment action, from the before-state the
 * ledger recorded. Each is a function of its own, with its own role.
 */
export const ROLLBACK_OF = {
  'disable-access-key': 'rollback-access-key',
  'revoke-sessions': 'rollback-session-revocation',
  'quarantine-user': 'rollback-user-quarantine',
  'isolate-network': 'rollback-network-isolation',
  'detach-instance-profile': 'rollback-instance-profile',
  'detach-from-asg': 'rollback-asg-detach',
  'lock-secret': 'rollback-secret-lock',
  'quarantine-function': 'rollback-function-quarantine',
  'block-public-access': 'rollback-public-access',
} as const satisfies Partial<Record<ActionName, ActionName>>;
export type RollbackAction = (typeof ROLLBACK_OF)[keyof typeof ROLLBACK_OF];
export const ROLLBACK_ACTIONS: readonly RollbackAction[] = Object.values(ROLLBACK_OF);

/** Containment actions a rollback leaves in place, and why (the plan lists them as skipped). */
export const NOT_ROLLED_BACK = {
  'preserve-evidence':
    'evidence is kept on purpose: the incident tag, termination protection, kept volumes and snapshots stay',
  'rotate-secret':
    'a rotation cannot be undone: the previous value is retired at its back end; nothing is restored',
} as const satisfies Partial<Record<ActionName, string>>;

/** Every action the rollback state machine invokes. */
export const ROLLBACK_MACHINE_ACTIONS: readonly ActionName[] = [
  'rollback-plan',
  'request-approval',
  'notify',
  'record-failure',
  ...ROLLBACK_ACTIONS,
];

/** The rollback state machine's name, as its `cordon:playbook` tag and approval items say. */
export const ROLLBACK_MACHINE = 'rollback';

/** The playbook a step id belongs to (step ids are unique across playbooks). */
export function playbookOfStep(step: string): PlaybookName | undefined {
  return PLAYBOOK_NAMES.find((p) => Object.hasOwn(stepsOf(p), step));
}
