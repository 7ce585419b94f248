import { expect } from 'vitest';
import { entryHash, GENESIS_HASH, type LedgerEntry } from '../../../functions/shared/ledger.js';
import { fakeMacOf } from '../../support/ledger-mac.js';
import { awsError } from '../shared/containment-fixtures.js';

/**
 * Fault injection for the AWS fakes of test/functions/faults: every fake
 * command handler goes through `Faults.wrap`, which counts the mutating calls
 * that took effect and, once, throws an injected error at a chosen command,
 * either before the call takes effect or after it (the change is made but the
 * answer is lost, as with a timeout). After it fires the fault is cleared, so
 * the next attempt runs against a healthy AWS.
 */

export type CommandKind = 'read' | 'write';

export interface Fault {
  /** Command name without the `Command` suffix (`UpdateAccessKey`). */
  readonly command: string;
  readonly error: () => Error;
  /** `before`: AWS refused, nothing changed. `after`: the change took effect, the answer was lost. */
  readonly when: 'before' | 'after';
  /** Which call of the command fails, from 1; the first when absent. */
  readonly occurrence?: number;
}

export class Faults {
  private pending: Fault | undefined;
  private firedAt: string | undefined;
  private seen = 0;
  private readonly applied = new Map<string, number>();

  inject(fault: Fault): void {
    this.pending = fault;
    this.firedAt = undefined;
    this.seen = 0;
  }

  /** The command the injected fault fired at, or undefined when it never did. */
  get fired(): string | undefined {
    return this.firedAt;
  }

  /** Mutating calls that took effect, by command, across every attempt so far. */
  writes(exclude: readonly string[] = []): Record<string, number> {
    return Object.fromEntries(
      [...this.applied]
        .filter(([name]) => !exclude.includes(name))
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  }

  resetCounts(): void {
    this.applied.clear();
  }

  /** A fake command handler with fault injection and write counting around it. */
  wrap<I, O>(command: string, kind: CommandKind, handle: (input: I) => O): (input: I) => O {
    return (input: I): O => {
      const matches = this.pending?.command === command;
      if (matches) this.seen += 1;
      const fault =
        matches && this.seen === (this.pending?.occurrence ?? 1) ? this.pending : undefined;
      if (fault) {
        this.pending = undefined;
        this.firedAt = command;
      }
      if (fault?.when === 'before') throw fault.error();
      const out = handle(input);
      if (kind === 'write') this.applied.set(command, (this.applied.get(command) ?? 0) + 1);
      if (fault?.when === 'after') throw fault.error();
      return out;
    };
  }
}

/** An error as it reaches Cordon's code, and the classification the state machines rely on. */
export interface FaultCase {
  readonly label: string;
  readonly error: () => Error;
  readonly expected: 'Cordon.Throttled' | 'Cordon.ServiceUnavailable' | 'Cordon.AccessDenied';
  readonly retryable: boolean;
}

/** What @smithy/node-http-handler throws for a socket timeout or ETIMEDOUT/ECONNRESET. */
const timeoutError = (code?: string): Error =>
  Object.assign(new Error('the request socket timed out'), {
    name: 'TimeoutError',
    ...(code ? { code } : {}),
    $metadata: { attempts: 3, totalRetryDelay: 300 },
  });

export const FAULT_CASES: readonly FaultCase[] = [
  {
    label: 'ThrottlingException',
    error: () => awsError('ThrottlingException', 400),
    expected: 'Cordon.Throttled',
    retryable: true,
  },
  {
    label: 'RequestLimitExceeded (EC2, 503)',
    error: () => awsError('RequestLimitExceeded', 503),
    expected: 'Cordon.Throttled',
    retryable: true,
  },
  {
    label: 'an unnamed HTTP 429',
    error: () => awsError('TooManyRequests', 429),
    expected: 'Cordon.Throttled',
    retryable: true,
  },
  {
    label: 'ServiceUnavailable (503)',
    error: () => awsError('ServiceUnavailable', 503),
    expected: 'Cordon.ServiceUnavailable',
    retryable: true,
  },
  {
    label: 'InternalFailure (500)',
    error: () => awsError('InternalFailure', 500),
    expected: 'Cordon.ServiceUnavailable',
    retryable: true,
  },
  {
    label: 'an unnamed HTTP 500',
    error: () => awsError('UnknownError', 500),
    expected: 'Cordon.ServiceUnavailable',
    retryable: true,
  },
  {
    label: 'TimeoutError (connection timeout)',
    error: () => timeoutError(),
    expected: 'Cordon.ServiceUnavailable',
    retryable: true,
  },
  {
    label: 'TimeoutError with code ETIMEDOUT',
    error: () => timeoutError('ETIMEDOUT'),
    expected: 'Cordon.ServiceUnavailable',
    retryable: true,
  },
  {
    label: 'AccessDenied (403)',
    error: () => awsError('AccessDenied', 403),
    expected: 'Cordon.AccessDenied',
    retryable: false,
  },
  {
    label: 'AccessDeniedException (400)',
    error: () => awsError('AccessDeniedException', 400),
    expected: 'Cordon.AccessDenied',
    retryable: false,
  },
  {
    label: 'UnauthorizedOperation (EC2, 403)',
    error: () => awsError('UnauthorizedOperation', 403),
    expected: 'Cordon.AccessDenied',
    retryable: false,
  },
];

/** A retryable 5xx: the representative fault where the kind of error is not the point. */
export const UNAVAILABLE: FaultCase = FAULT_CASES[4] as FaultCase;

/** A crash between an AWS call and its ledger write, as the ledger's DynamoDB answers it. */
export const LEDGER_CRASH = (): Error => awsError('InternalServerError', 500);

/**
 * The ledger's hash chain holds: seq contiguous from 0, each prevHash the
 * previous entry's hash, each hash its own, each MAC the ledger key's.
 */
export function expectChainIntact(entries: readonly LedgerEntry[]): void {
  let prev = GENESIS_HASH;
  entries.forEach((entry, i) => {
    const { hash, mac, ...body } = entry;
    expect(entry.seq, `entry #${i} seq`).toBe(i);
    expect(entry.prevHash, `entry #${i} prevHash`).toBe(prev);
    expect(entryHash(body), `entry #${i} hash`).toBe(hash);
    expect(mac, `entry #${i} MAC`).toBe(fakeMacOf(hash));
    prev = hash;
  });
}
