import type { ContainmentActionName, RollbackFunctionName } from '../actions/registry.js';

export type { ContainmentActionName, RollbackFunctionName };

/**
 * The playbooks Cordon ships, their steps, and each step's default mode. This
 * is the single source for infra (config validation, state machines) and for
 * triage (deciding each step's mode), so the two can never disagree.
 */

export const MODES = ['auto', 'approve', 'dry-run', 'off'] as const;
export type Mode = (typeof MODES)[number];

/**
 * The functions every playbook's frame (and the rollback state machine) is
 * built from, and the ones outside any state machine, each a folder of its
 * own under `functions/`. The containment actions and their rollbacks are
 * listed by functions/actions/registry.ts.
 */
export const FRAME_FUNCTIONS = [
  'triage',
  'update-finding',
  'notify',
  'record-failure',
  'request-approval',
  /** The approval endpoint: records responders' decisions and sends them to Step Functions. */
  'responder-api',
  /** Rollback: reads the ledger and lists what a rollback of an incident would restore. */
  'rollback-plan',
  /**
   * Records and notifies what would otherwise stop or switch off Cordon in
   * silence: aborted executions, StopExecution calls, changes to the runtime
   * mode and to Cordon's rules. EventBridge rules invoke it.
   */
  'watch',
  /**
   * Anchors every ledger entry outside the writers' reach: reads the ledger
   * table's stream and writes each entry's hash to an Object Lock bucket;
   * records and notifies a rewrite or removal. The stream invokes it.
   */
  'anchor',
  /**
   * CloudWatch metrics derived from the ledger as its stream delivers each
   * entry, and the waiting approvals counted on a schedule: beside the
   * containment path, never on it.
   */
  'metrics',
] as const;
export type FrameFunctionName = (typeof FRAME_FUNCTIONS)[number];

/** Every function Cordon deploys, by name: the frame's, the actions' and their rollbacks'. */
export type FunctionName = FrameFunctionName | ContainmentActionName | RollbackFunctionName;

export interface FollowOnAction {
  readonly action: ContainmentActionName;
  /** Key of its result under `$.results`. */
  readonly key: string;
  /** Its task's state name. */
  readonly label: string;
}

export interface StepSpec {
  /** The function that performs the step; its result lands at `$.results.<step>`. */
  readonly action: ContainmentActionName;
  /** The step's state names start with this ("Disable access key?"). */
  readonly label: string;
  /** The name of the action's task state. @default `label` */
  readonly actionLabel?: string;
  /**
   * Actions that run after `action`, in order, under the same mode and the
   * same approval: one decision for one containment stage.
   */
  readonly followedBy?: readonly FollowOnAction[];
  /**
   * The action starts something AWS finishes later (a rotation) and fails
   * with `error` until it has: the state machine calls it again, waiting in
   * between, at most `checks` more times. Then the step has failed.
   */
  readonly pollsOn?: PollSpec;
  /**
   * This step stands in for the step named here when that one fails: where
   * triage plans it as that step's fallback (`fallback` in its plan), it
   * runs only after that step failed, and otherwise is not needed.
   */
  readonly fallbackFor?: string;
  /** Mode used when configuration does not set one. */
  readonly defaultMode: Mode;
  /** What the step does, for notifications, approval requests and docs. */
  readonly summary: string;
}

export interface PollSpec {
  /** The action's error name for "started, not finished yet". */
  readonly error: string;
  /** The first wait, in seconds; each next one is half as long again, up to `maxDelaySeconds`. */
  readonly intervalSeconds: number;
  readonly maxDelaySeconds: number;
  /** How many more calls after the first. */
  readonly checks: number;
}

/**
 * A rotation's checks: 10 s, then half as long again each time up to a
 * minute, 12 checks, about nine minutes in all. Two rotations by a rotation
 * function (create, set, test, finish each) take a minute or two; one that
 * has not finished by then has stalled or failed.
 */
export const ROTATION_POLL: PollSpec = {
  error: 'Cordon.RotationPending',
  intervalSeconds: 10,
  maxDelaySeconds: 60,
  checks: 12,
};

export const PLAYBOOKS = {
  'iam-credentials': {
    summary: 'Contains compromised IAM credentials: access keys, users and assumed roles.',
    steps: {
      disableAccessKey: {
        label: 'Disable access key',
        action: 'disable-access-key',
        defaultMode: 'auto',
        summary: 'Disable the access key named in the finding',
      },
      revokeUserSessions: {
        label: 'Revoke user sessions',
        action: 'revoke-sessions',
        defaultMode: 'auto',
        summary: "Deny the user's temporary credentials issued before now",
      },
      quarantineUser: {
        label: 'Quarantine user',
        action: 'quarantine-user',
        defaultMode: 'approve',
        summary: 'Attach a deny-all policy to the user and delete its console password',
      },
      revokeRoleSessions: {
        label: 'Revoke role sessions',
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
        label: 'Preserve evidence',
        action: 'preserve-evidence',
        defaultMode: 'auto',
        summary:
          'Keep the evidence: termination protection on, stop on shutdown, keep every volume on termination, tag the instance, snapshot every volume',
      },
      isolate: {
        label: 'Isolate instance',
        action: 'detach-from-asg',
        actionLabel: 'Leave Auto Scaling group',
        followedBy: [
          { action: 'isolate-network', key: 'isolateNetwork', label: 'Isolate network interfaces' },
          {
            action: 'detach-instance-profile',
            key: 'detachInstanceProfile',
            label: 'Detach instance profile',
          },
        ],
        defaultMode: 'approve',
        summary:
          'Take the instance out of its Auto Scaling group, isolate every network interface, detach its instance profile',
      },
      revokeInstanceRoleSessions: {
        label: 'Revoke instance role sessions',
        action: 'revoke-sessions',
        defaultMode: 'approve',
        summary: "Deny every session of the instance's role issued before now (all of its users)",
      },
    },
  },
  'secret-exposure': {
    summary:
      'Rotates an exposed secret until the exposed version is neither current nor previous; locks it when it has no rotation, or when the rotation fails.',
    steps: {
      rotateSecret: {
        label: 'Rotate secret',
        action: 'rotate-secret',
        pollsOn: ROTATION_POLL,
        defaultMode: 'approve',
        summary:
          'Rotate the secret with its configured rotation, twice when needed, until the version AWSCURRENT at triage is neither AWSCURRENT nor AWSPREVIOUS',
      },
      lockSecret: {
        label: 'Lock secret',
        action: 'lock-secret',
        fallbackFor: 'rotateSecret',
        defaultMode: 'approve',
        summary:
          'Deny reading the secret to everyone but the break-glass principals, when rotation is not configured or did not finish; it must be rotated by hand',
      },
    },
  },
  'integration-quarantine': {
    summary: 'Stops a compromised Lambda function and revokes its role.',
    steps: {
      stopInvocations: {
        label: 'Stop invocations',
        action: 'quarantine-function',
        defaultMode: 'approve',
        summary: "Set the function's reserved concurrency to 0, so no invocation runs",
      },
      revokeFunctionRoleSessions: {
        label: 'Revoke function role sessions',
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
        label: 'Block public access',
        action: 'block-public-access',
        defaultMode: 'approve',
        summary: 'Turn on all four bucket-level public access block settings',
      },
    },
  },
  'attack-sequence': {
    summary:
      "Contains a GuardDuty attack sequence's credentials, instances and buckets, each with its own playbook's steps, after one approval of the whole set.",
    // Its members' steps are their own playbooks' (SEQUENCE below).
    steps: {},
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

/**
 * The attack-sequence playbook. A GuardDuty attack sequence names many
 * resources at once, so it is contained as a parent incident whose one
 * step is a responder's approval of the whole set (`step`), and a child
 * incident per member, claimed by the same triage, that runs its own
 * playbook's steps under that approval: never automatically (`auto`
 * becomes `approve`). `members` are the playbooks a member may have.
 */
export const SEQUENCE = {
  playbook: 'attack-sequence',
  step: 'containSequence',
  label: 'Contain attack sequence',
  members: ['iam-credentials', 'ec2-instance', 's3-exposure'],
  /** How many members one approval may act on; the rest are listed as not acted on. */
  limit: 20,
} as const satisfies {
  readonly playbook: PlaybookName;
  readonly step: string;
  readonly label: string;
  readonly members: readonly PlaybookName[];
  readonly limit: number;
};
export type SequenceMemberPlaybook = (typeof SEQUENCE.members)[number];

export function allStepIds(): string[] {
  return PLAYBOOK_NAMES.flatMap((p) => Object.keys(stepsOf(p)));
}

/** Every action a step runs, in order: its own, then its follow-on actions. */
export function actionsOfStep(spec: StepSpec): ContainmentActionName[] {
  return [spec.action, ...(spec.followedBy ?? []).map((f) => f.action)];
}

/** Functions every playbook's frame runs: triage, finding updates, notices, failures. */
export const PLAYBOOK_FRAME: readonly FrameFunctionName[] = [
  'triage',
  'update-finding',
  'notify',
  'record-failure',
];

/** Every function a playbook's state machine invokes. */
export function functionsOfPlaybook(playbook: PlaybookName): FunctionName[] {
  // An attack sequence runs its members' playbooks' steps, after its own approval.
  const steps = (playbook === SEQUENCE.playbook ? SEQUENCE.members : [playbook]).flatMap((p) =>
    Object.values(stepsOf(p)),
  );
  const needsApproval = steps.length > 0 ? (['request-approval'] as const) : [];
  return [...new Set([...PLAYBOOK_FRAME, ...needsApproval, ...steps.flatMap(actionsOfStep)])];
}

/** The rollback state machine's name, as its `cordon:playbook` tag and approval items say. */
export const ROLLBACK_MACHINE = 'rollback';

/**
 * The errors of the Fail states Cordon's machines reach after notifying the
 * failure (the failure paths). An execution that fails with any other error
 * (States.DataLimitExceeded and States.Runtime, which no Catch can catch;
 * FAILURE_UNREPORTED, a failure path whose notice did not go out), or times
 * out, ended outside them: the watch records and notifies it.
 */
/** The Fail state a failure path reaches when its notice did not go out. */
export const FAILURE_UNREPORTED = 'Cordon.FailureUnreported';

export const FAILURE_PATH_ERRORS = {
  playbook: 'Cordon.PlaybookFailed',
  rollback: 'Cordon.RollbackFailed',
} as const;

/** The playbook a step id belongs to (step ids are unique across playbooks). */
export function playbookOfStep(step: string): PlaybookName | undefined {
  return PLAYBOOK_NAMES.find((p) => Object.hasOwn(stepsOf(p), step));
}
