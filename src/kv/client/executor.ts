// Routed execution of a piece of work that may span regions: split it over the current routes,
// send the parts in parallel, and when a part is refused for stale routes, refresh and re-split
// just that part over the new regions. Re-split parts are new requests with new call ids (the
// refused request was not applied); the one exception keeps the retry cache useful: when an
// earlier attempt's outcome is unknown and the part goes, unchanged, to the same region, it is
// retried under its old call id so the store can answer it from its retry cache.

import { type KvCommand, type KvResult, encodeCommand } from '../commands.js';
import type { ReadConsistency } from '../protocol.js';
import type { CallIds } from './call-ids.js';
import { KvClientError, StaleRoute } from './errors.js';
import { sameBytes } from './keys.js';
import type { Lifecycle } from './lifecycle.js';
import type { Budget, RegionRpc } from './region-rpc.js';
import type { RegionRoute } from './route-table.js';
import type { Router } from './router.js';

export interface OpContext {
  readonly deadline: number;
  readonly write: boolean;
  readonly consistency?: ReadConsistency;
  readonly follower?: boolean;
}

export interface Unit<P> {
  readonly region: RegionRoute;
  readonly part: P;
}

export interface Plan<P> {
  /** Splits work over the current routes (waiting for routes that cover it, until the deadline). */
  split(work: P, deadline: number): Promise<Array<Unit<P>>>;
  /** The command for one part, sent to its region. */
  build(region: RegionRoute, part: P): KvCommand;
  /** Takes one part's result; throws a KvClientError when the result is not what it expects. */
  done(part: P, result: KvResult, region: RegionRoute): void;
  /**
   * Optional: takes a part's failure instead of the run failing (the batcher settles each
   * member itself). With it, run() never rejects.
   */
  fail?(part: P, err: unknown): void;
}

interface Lineage {
  readonly budget: Budget;
  /** An attempt under an earlier call id may have applied. */
  readonly unknown: boolean;
  /** A call id handed down to be reused. */
  readonly callId?: number;
}

export class Executor {
  constructor(
    private readonly rpc: RegionRpc,
    private readonly router: Router,
    private readonly callIds: CallIds,
    private readonly life: Lifecycle,
    private readonly maxRetries: number,
  ) {}

  /** Runs `work`; after every part settled, throws the most telling failure, if any. */
  async run<P>(work: P, plan: Plan<P>, ctx: OpContext): Promise<void> {
    let units: Array<Unit<P>>;
    try {
      units = await plan.split(work, ctx.deadline);
    } catch (e) {
      if (!plan.fail) throw e;
      plan.fail(work, e);
      return;
    }
    await settleAll(units.map((u) => this.unit(u, plan, ctx, { budget: { attempts: 0 }, unknown: false })));
  }

  /** One request to the region holding what `locate` finds; re-located after stale routes. */
  async runSingle(locate: (deadline: number) => Promise<RegionRoute>, build: (region: RegionRoute) => KvCommand, ctx: OpContext): Promise<{ result: KvResult; region: RegionRoute }> {
    let out: { result: KvResult; region: RegionRoute } | undefined;
    await this.run(null, {
      split: async (_, deadline) => [{ region: await locate(deadline), part: null }],
      build: (region) => build(region),
      done: (_, result, region) => {
        out = { result, region };
      },
    }, ctx);
    return out!;
  }

  private async unit<P>(u: Unit<P>, plan: Plan<P>, ctx: OpContext, lin: Lineage): Promise<void> {
    if (!plan.fail) return this.unitOrThrow(u, plan, ctx, lin);
    try {
      await this.unitOrThrow(u, plan, ctx, lin);
    } catch (e) {
      // Only this unit's own failure lands here: its re-split children report theirs themselves.
      plan.fail(u.part, e);
    }
  }

  private async unitOrThrow<P>(u: Unit<P>, plan: Plan<P>, ctx: OpContext, lin: Lineage): Promise<void> {
    const callId = ctx.write ? (lin.callId ?? this.callIds.allocate()) : undefined;
    let handedOver = false;
    try {
      let stale: StaleRoute;
      try {
        const res = await this.rpc.send(u.region, plan.build(u.region, u.part), {
          deadline: ctx.deadline,
          budget: lin.budget,
          unknown: lin.unknown,
          ...(callId !== undefined ? { callId } : {}),
          ...(ctx.consistency ? { consistency: ctx.consistency } : {}),
          ...(ctx.follower ? { follower: true } : {}),
        });
        plan.done(u.part, res, u.region);
        return;
      } catch (e) {
        if (!(e instanceof StaleRoute)) throw e;
        stale = e;
      }
      const unknown = lin.unknown || stale.unknown;
      if (lin.budget.attempts >= this.maxRetries) {
        throw new KvClientError(unknown ? 'UNKNOWN_OUTCOME' : stale.code, `gave up after ${lin.budget.attempts} attempts: ${stale.message}`, u.region.id);
      }
      if (Date.now() >= ctx.deadline) throw deadlineError(unknown, `routes still stale at the deadline: ${stale.message}`, u.region.id);
      this.life.check();
      await this.router.recover(stale.region, ctx.deadline, lin.budget.attempts);
      let units: Array<Unit<P>>;
      try {
        units = await plan.split(u.part, ctx.deadline);
      } catch (e) {
        if (unknown && e instanceof KvClientError && e.code === 'DEADLINE_EXCEEDED') throw deadlineError(true, e.message, e.regionId);
        throw e;
      }
      const reuse =
        callId !== undefined &&
        stale.unknown &&
        !stale.applyRefused &&
        units.length === 1 &&
        units[0]!.region.id === u.region.id &&
        sameBytes(encodeCommand(plan.build(units[0]!.region, units[0]!.part)), encodeCommand(plan.build(u.region, u.part)));
      if (reuse) handedOver = true;
      else if (callId !== undefined) this.callIds.release(callId);
      await settleAll(
        units.map((c) => this.unit(c, plan, ctx, { budget: { attempts: lin.budget.attempts }, unknown, ...(reuse ? { callId: callId! } : {}) })),
      );
    } finally {
      if (callId !== undefined && !handedOver) this.callIds.release(callId);
    }
  }
}

export function deadlineError(unknown: boolean, what: string, regionId?: string): KvClientError {
  return unknown ? new KvClientError('UNKNOWN_OUTCOME', `write outcome unknown: ${what}`, regionId) : new KvClientError('DEADLINE_EXCEEDED', what, regionId);
}

/** Waits for every promise; then throws UNKNOWN_OUTCOME if any part has it, else the first failure. */
export async function settleAll(ps: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const rs = await Promise.allSettled(ps);
  let first: unknown;
  for (const r of rs) {
    if (r.status !== 'rejected') continue;
    if (r.reason instanceof KvClientError && r.reason.code === 'UNKNOWN_OUTCOME') throw r.reason;
    if (first === undefined) first = r.reason;
  }
  if (first !== undefined) throw first;
}
