/**
 * How far a playbook path is from its first containment write: the function
 * starts and the sequential AWS round trips from the execution's start to
 * the first call that changes the target, and to the execution's end,
 * counted from the execution's timeline (rehearsal/calls.ts).
 */
import type { CallRecord, Timeline } from '../rehearsal/calls.js';

/**
 * What counts as a containment write, on every path: the mutating target
 * calls of the actions (`Service:Operation`, as rehearsal/calls.ts names
 * them). A path's first containment write is the first of these its
 * execution starts; ledger writes, MACs, notifications and finding updates
 * are the playbook's bookkeeping, not containment.
 */
export const CONTAINMENT_WRITES: readonly string[] = [
  // iam-credentials
  'IAM:UpdateAccessKey',
  'IAM:PutUserPolicy',
  'IAM:AttachUserPolicy',
  'IAM:DeleteLoginProfile',
  'IAM:PutRolePolicy',
  // ec2-instance
  'EC2:CreateTags',
  'EC2:ModifyInstanceAttribute',
  'EC2:CreateSnapshot',
  'Auto Scaling:SetInstanceProtection',
  'Auto Scaling:DetachInstances',
  'EC2:CreateSecurityGroup',
  'EC2:AuthorizeSecurityGroupIngress',
  'EC2:AuthorizeSecurityGroupEgress',
  'EC2:RevokeSecurityGroupIngress',
  'EC2:RevokeSecurityGroupEgress',
  'EC2:ModifyNetworkInterfaceAttribute',
  'EC2:DisassociateIamInstanceProfile',
  // secret-exposure
  'Secrets Manager:RotateSecret',
  'Secrets Manager:PutResourcePolicy',
  // integration-quarantine
  'Lambda:PutFunctionConcurrency',
  // s3-exposure
  'S3:PutPublicAccessBlock',
];

/** An AWS call in flight from `start` to `end`. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/**
 * The sequential round trips among `calls`: the longest chain of calls each
 * starting once the one before it has ended. Calls in flight at the same
 * time count once (three concurrent reads are one round trip); a call made
 * after another returned counts again, even while a third, longer one is
 * still in flight.
 */
export function sequentialRoundTrips(calls: readonly Interval[]): number {
  const byEnd = [...calls].sort((a, b) => a.end - b.end);
  // depth[i]: the longest chain that ends with byEnd[i].
  const depth: number[] = [];
  let longest = 0;
  for (const [i, call] of byEnd.entries()) {
    let before = 0;
    for (let j = 0; j < i; j++) {
      const earlier = byEnd[j];
      const d = depth[j];
      if (earlier !== undefined && d !== undefined && earlier.end <= call.start && d > before) {
        before = d;
      }
    }
    depth.push(before + 1);
    longest = Math.max(longest, before + 1);
  }
  return longest;
}

/** Function starts and sequential round trips over a stretch of an execution. */
export interface Distance {
  readonly starts: number;
  readonly roundTrips: number;
}

export interface PathLatency {
  /** The first containment write (`IAM:UpdateAccessKey`), if the path made one. */
  readonly firstWrite?: string;
  /**
   * From the execution's start to the first containment write: the
   * functions started by the time it was sent (the one sending it
   * included), and the round trips that had returned before it was sent.
   */
  readonly toFirstWrite?: Distance;
  /** The whole execution: every function start and every round trip. */
  readonly toEnd: Distance;
}

/** The path's distance to its first containment write (`writes`) and to its end. */
export function pathLatency(
  timeline: Timeline,
  writes: readonly string[] = CONTAINMENT_WRITES,
): PathLatency {
  const toEnd = {
    starts: timeline.starts.length,
    roundTrips: sequentialRoundTrips(timeline.calls),
  };
  const first = timeline.calls
    .filter((c) => writes.includes(c.api))
    .reduce<CallRecord | undefined>(
      (a, c) => (a === undefined || c.start < a.start ? c : a),
      undefined,
    );
  if (first === undefined) return { toEnd };
  return {
    firstWrite: first.api,
    toFirstWrite: {
      starts: timeline.starts.filter((s) => s.at <= first.start).length,
      roundTrips: sequentialRoundTrips(timeline.calls.filter((c) => c.end <= first.start)),
    },
    toEnd,
  };
}

/** The timeline as lines a person reads: each start and call, in ms from the first start. */
export function formatTimeline(timeline: Timeline): string {
  const zero = Math.min(...timeline.starts.map((s) => s.at), ...timeline.calls.map((c) => c.start));
  const at = (ms: number) => `+${(ms - zero).toFixed(1).padStart(7)} ms`;
  return [
    ...timeline.starts.map((s) => ({ t: s.at, line: `${at(s.at)}  start ${s.fn}` })),
    ...timeline.calls.map((c) => ({
      t: c.start,
      line: `${at(c.start)}    ${c.fn}: ${c.api} (${(c.end - c.start).toFixed(1)} ms)`,
    })),
  ]
    .sort((a, b) => a.t - b.t)
    .map((e) => e.line)
    .join('\n');
}
