// The history model for linearizability checking: what clients invoked, what they saw, and when.
//
// An operation is an interval [callTime, returnTime] on one client. Its outcome is one of:
//  - 'ok':      the client got a response; `output` is what the system answered.
//  - 'fail':    the operation definitely did not take effect (e.g. a typed NOT_LEADER error
//               raised before anything was proposed). Such operations are dropped from the
//               history: they constrain nothing.
//  - 'unknown': the client gave up without knowing (timeout, connection lost). The operation
//               may take effect at any moment after its call, or never. Its returnTime is
//               +Infinity and its output is unconstrained (undefined).
//
// Real-time order: A precedes B iff A.returnTime < B.callTime (equal times count as concurrent,
// the lenient choice). Times are plain numbers in any unit (ms, ns, virtual ticks).
//
// A client is sequential: it never has two operations in flight. A client that saw 'unknown'
// still has that operation "in flight forever", so it must continue under a new client id.
// `makeHistory` rejects histories that break this; `HistoryRecorder` enforces it as calls are
// made, and `RecordingClient` renames itself automatically.

export type Outcome = 'ok' | 'fail' | 'unknown';

/** One operation of a checked history (never 'fail': those are dropped). */
export interface Operation<I, O> {
  /** Unique within the history; stable across partitioning (used in reports). */
  readonly id: number;
  readonly clientId: string;
  readonly input: I;
  /** The observed output; undefined when the outcome is 'unknown'. */
  readonly output: O | undefined;
  readonly callTime: number;
  /** +Infinity when the outcome is 'unknown'. */
  readonly returnTime: number;
  readonly outcome: 'ok' | 'unknown';
  /** For 'unknown' operations: when the client gave up (display only, not a constraint). */
  readonly gaveUpAt?: number;
}

export type History<I, O> = readonly Operation<I, O>[];

/** What a client observed, before validation (the input of `makeHistory`). */
export interface OperationRecord<I, O> {
  readonly clientId: string;
  readonly input: I;
  /** Required for 'ok'; ignored for 'fail' and 'unknown'. */
  readonly output?: O;
  readonly callTime: number;
  /** Required for 'ok' and 'fail'; for 'unknown' it is the give-up time (display only). */
  readonly returnTime?: number;
  readonly outcome: Outcome;
}

export class HistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryError';
  }
}

/**
 * Validates records and turns them into a checkable history: drops 'fail' operations, gives
 * 'unknown' ones returnTime = +Infinity and no output, and assigns ids in record order.
 * Throws HistoryError when a record is malformed or a client is not sequential (two overlapping
 * operations, or an operation after an 'unknown' one on the same client id).
 */
export function makeHistory<I, O>(records: readonly OperationRecord<I, O>[]): History<I, O> {
  const byClient = new Map<string, { rec: OperationRecord<I, O>; index: number }[]>();
  records.forEach((rec, index) => {
    const where = `record #${index} (client ${rec.clientId})`;
    if (!Number.isFinite(rec.callTime)) throw new HistoryError(`${where}: callTime must be a finite number`);
    if (rec.outcome !== 'unknown') {
      if (rec.returnTime === undefined || !Number.isFinite(rec.returnTime)) {
        throw new HistoryError(`${where}: an '${rec.outcome}' operation needs a finite returnTime`);
      }
      if (rec.returnTime < rec.callTime) throw new HistoryError(`${where}: returnTime ${rec.returnTime} < callTime ${rec.callTime}`);
    }
    if (rec.outcome !== 'ok' && rec.outcome !== 'fail' && rec.outcome !== 'unknown') {
      throw new HistoryError(`${where}: outcome must be 'ok', 'fail' or 'unknown'`);
    }
    let list = byClient.get(rec.clientId);
    if (!list) byClient.set(rec.clientId, (list = []));
    list.push({ rec, index });
  });

  for (const [clientId, list] of byClient) {
    const sorted = [...list].sort((a, b) => a.rec.callTime - b.rec.callTime || a.index - b.index);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (prev.rec.outcome === 'unknown') {
        throw new HistoryError(
          `client ${clientId}: record #${cur.index} was invoked after record #${prev.index} ended with an unknown outcome; ` +
            `a client that saw 'unknown' must continue under a new client id`,
        );
      }
      if (cur.rec.callTime < prev.rec.returnTime!) {
        throw new HistoryError(
          `client ${clientId}: records #${prev.index} and #${cur.index} overlap in time; a client must be sequential`,
        );
      }
    }
  }

  const ops: Operation<I, O>[] = [];
  records.forEach((rec, index) => {
    if (rec.outcome === 'fail') return;
    if (rec.outcome === 'ok') {
      ops.push({ id: index, clientId: rec.clientId, input: rec.input, output: rec.output, callTime: rec.callTime, returnTime: rec.returnTime!, outcome: 'ok' });
    } else {
      const op: Operation<I, O> = { id: index, clientId: rec.clientId, input: rec.input, output: undefined, callTime: rec.callTime, returnTime: Infinity, outcome: 'unknown' };
      ops.push(rec.returnTime !== undefined && Number.isFinite(rec.returnTime) ? { ...op, gaveUpAt: rec.returnTime } : op);
    }
  });
  return ops;
}

/** A pending operation; resolve it exactly once. */
export interface OpHandle<O> {
  readonly clientId: string;
  /** The call completed and returned `output`. */
  ok(output: O): void;
  /** The call definitely did not take effect (dropped from the history). */
  fail(): void;
  /** The caller does not know whether it took effect; retires the client id. */
  unknown(): void;
}

export interface HistoryRecorderOptions {
  /** The clock stamping calls and returns. Defaults to performance.now(). */
  readonly clock?: () => number;
}

/**
 * Records a history as clients run. Enforces client sequentiality: invoking on a client id that
 * has an operation pending, or that has been retired by an 'unknown' outcome, throws.
 * Use `client(name)` to get a RecordingClient that renames itself after 'unknown'.
 */
export class HistoryRecorder<I, O> {
  private readonly clock: () => number;
  private readonly entries: (OperationRecord<I, O> | undefined)[] = [];
  private readonly usedIds = new Set<string>();
  private readonly pending = new Map<string, { index: number; input: I; callTime: number }>();
  private readonly retired = new Set<string>();
  private readonly generations = new Map<string, number>();

  constructor(options: HistoryRecorderOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Stamps the call now and returns a handle to stamp the response with. */
  invoke(clientId: string, input: I): OpHandle<O> {
    if (this.pending.has(clientId)) throw new HistoryError(`client ${clientId} already has an operation in flight`);
    if (this.retired.has(clientId)) {
      throw new HistoryError(`client ${clientId} saw an unknown outcome; continue under a new id (e.g. ${this.peekFreshClientId(clientId)})`);
    }
    const index = this.entries.length;
    const callTime = this.clock();
    this.entries.push(undefined);
    this.usedIds.add(clientId);
    this.pending.set(clientId, { index, input, callTime });
    let done = false;
    const finish = (outcome: Outcome, output?: O): void => {
      if (done) throw new HistoryError(`operation #${index} of client ${clientId} was already resolved`);
      done = true;
      const returnTime = this.clock();
      this.pending.delete(clientId);
      if (outcome === 'unknown') this.retired.add(clientId);
      this.entries[index] = outcome === 'ok' ? { clientId, input, output: output as O, callTime, returnTime, outcome } : { clientId, input, callTime, returnTime, outcome };
    };
    return {
      clientId,
      ok: (output: O) => finish('ok', output),
      fail: () => finish('fail'),
      unknown: () => finish('unknown'),
    };
  }

  /** True when `clientId` may invoke (nothing pending, not retired). */
  canInvoke(clientId: string): boolean {
    return !this.pending.has(clientId) && !this.retired.has(clientId);
  }

  /**
   * A client id derived from `base` that has never been used or handed out: base, base~1,
   * base~2, ... The id is reserved, so two callers never get the same one.
   */
  freshClientId(base: string): string {
    const id = this.peekFreshClientId(base);
    this.usedIds.add(id);
    return id;
  }

  private peekFreshClientId(base: string): string {
    let g = this.generations.get(base) ?? 0;
    for (;;) {
      const id = g === 0 ? base : `${base}~${g}`;
      if (!this.retired.has(id) && !this.pending.has(id) && !this.usedIds.has(id)) {
        this.generations.set(base, g);
        return id;
      }
      g++;
    }
  }

  /** A logical client that moves to a fresh id whenever one of its operations ends 'unknown'. */
  client(name: string): RecordingClient<I, O> {
    return new RecordingClient(this, name);
  }

  /** Every record so far, in invocation order; operations still in flight appear as 'unknown'. */
  records(): OperationRecord<I, O>[] {
    return this.entries.map((rec, index) => {
      if (rec) return rec;
      for (const [clientId, p] of this.pending) {
        if (p.index === index) return { clientId, input: p.input, callTime: p.callTime, outcome: 'unknown' as const };
      }
      throw new Error('unreachable: unresolved record without a pending entry');
    });
  }

  /** The checkable history (fails dropped; in-flight operations count as 'unknown'). */
  history(): History<I, O> {
    return makeHistory(this.records());
  }

}

/** A sequential client of a HistoryRecorder whose id changes after each 'unknown' outcome. */
export class RecordingClient<I, O> {
  private current: string;

  constructor(
    private readonly recorder: HistoryRecorder<I, O>,
    readonly name: string,
  ) {
    this.current = recorder.freshClientId(name);
  }

  /** The client id the next operation will be recorded under. */
  get id(): string {
    return this.current;
  }

  invoke(input: I): OpHandle<O> {
    const h = this.recorder.invoke(this.current, input);
    return {
      clientId: h.clientId,
      ok: (o) => h.ok(o),
      fail: () => h.fail(),
      unknown: () => {
        h.unknown();
        this.current = this.recorder.freshClientId(this.name);
      },
    };
  }

  /** Runs `fn` as one operation: ok on resolve; on throw, `classify` picks 'fail' or 'unknown' (default 'unknown'). */
  async run(input: I, fn: () => Promise<O>, classify: (err: unknown) => 'fail' | 'unknown' = () => 'unknown'): Promise<O> {
    const h = this.invoke(input);
    let out: O;
    try {
      out = await fn();
    } catch (err) {
      if (classify(err) === 'fail') h.fail();
      else h.unknown();
      throw err;
    }
    h.ok(out);
    return out;
  }
}
