// One request to one region, with retries: picks the region's leader (cached, hinted, or the
// next voter in turn), follows NOT_LEADER redirects, backs off on NO_LEADER / SERVER_BUSY /
// LEADER_CHANGED, moves to the next peer on transport failures, all within the call's deadline
// and attempt budget. A write keeps its call id across these retries, so the store's retry
// cache answers a retry of an applied write with the original reply.
//
// Stale routes (NO_REGION_FOUND, INVALID_REGION_EPOCH, or the same refusal at apply time) end
// the request with a StaleRoute: the caller refreshes and re-routes the work (executor.ts).

import { decodeEnvelope, encodeEnvelope } from '../../raft/runtime/rpc-router.js';
import { TransportError } from '../../transport/errors.js';
import type { Transport } from '../../transport/transport.js';
import { type KvCommand, type KvResult, decodeResult, encodeCommand } from '../commands.js';
import { type KvErrorHeader, type KvOkHeader, type KvRequestHeader, KvTag, type ReadConsistency } from '../protocol.js';
import type { CallIds } from './call-ids.js';
import { KvClientError, RETRY_LATER_CODES, StaleRoute, TRANSPORT_RETRY_CODES, TRANSPORT_UNKNOWN_CODES } from './errors.js';
import { type Lifecycle, backoffMs, closedError } from './lifecycle.js';
import type { RegionRoute } from './route-table.js';
import { type Router, addressId } from './router.js';

export interface RpcSettings {
  readonly clientId: string;
  readonly attemptTimeoutMs: number;
  readonly maxRetries: number;
}

/** Attempts spent on one piece of work, carried along when it is re-split. */
export interface Budget {
  attempts: number;
}

export interface SendOptions {
  readonly deadline: number;
  readonly budget: Budget;
  /** Writes: the call id (allocated by the caller, kept across retries). */
  readonly callId?: number;
  /** Writes: an attempt of this work under an earlier call id may have applied. */
  readonly unknown?: boolean;
  /** Reads. */
  readonly consistency?: ReadConsistency;
  readonly follower?: boolean;
}

/** Stale-route codes: the client's region routes are wrong. */
const STALE_CODES: ReadonlySet<string> = new Set(['NO_REGION_FOUND', 'INVALID_REGION_EPOCH', 'UNKNOWN_GROUP']);

interface Failure {
  code: string;
  message: string;
  leaderId?: string;
  leaderAddress?: string;
  transport: boolean;
  notSent: boolean;
  /** The replica is behind the client's routes. */
  behind?: boolean;
}

export class RegionRpc {
  /** Next peer to try per region when no leader is known. */
  private readonly cursor = new Map<string, number>();
  /** Highest log index seen per region (write index, read appliedIndex): minIndex of stale reads. */
  private readonly seenIndex = new Map<string, number>();
  /** Requests sent, for tests and status. */
  requests = 0;

  constructor(
    private readonly transport: Transport,
    private readonly router: Router,
    private readonly callIds: CallIds,
    private readonly life: Lifecycle,
    private readonly s: RpcSettings,
  ) {}

  async send(region: RegionRoute, cmd: KvCommand, o: SendOptions): Promise<KvResult> {
    const write = o.callId !== undefined;
    let body: Uint8Array;
    try {
      body = encodeCommand(cmd);
    } catch (e) {
      throw new KvClientError('INVALID_PARAMETER', `cannot encode the request: ${(e as Error).message}`, region.id);
    }
    let unknown = o.unknown === true;
    let redirects = 0;
    let lastErr = '';
    let lastCode = '';
    const tried = new Set<string>();
    const table = this.router.table;
    /** The next attempt's target when a hint names it (follower reads do not use the leader cache). */
    let redirectTo: string | undefined;
    for (let round = 0; ; round++) {
      this.life.check();
      const timeoutMs = Math.min(this.s.attemptTimeoutMs, o.deadline - Date.now());
      if (timeoutMs <= 0) throw this.deadline(region, unknown, tried, lastErr);
      const target = redirectTo ?? this.pick(region, o.follower === true);
      redirectTo = undefined;
      const firstTry = !tried.has(target);
      tried.add(target);
      const header: KvRequestHeader = { version: region.epoch.version };
      if (write) {
        header.clientId = this.s.clientId;
        header.callId = o.callId;
        header.firstUnreplied = this.callIds.firstUnreplied();
      } else {
        header.consistency = o.consistency ?? 'linearizable';
        if (o.follower) header.follower = true;
        const seen = this.seenIndex.get(region.id);
        if (header.consistency === 'stale' && seen) header.minIndex = seen;
      }
      o.budget.attempts++;
      this.requests++;
      let f: Failure;
      try {
        const raw = await this.life.race(this.transport.request(this.router.transportId(target) ?? target, region.id, encodeEnvelope(KvTag.Command, header, body), { timeoutMs }));
        if (this.life.closed) throw closedError();
        let res: { tag: number; header: KvOkHeader | KvErrorHeader; body: Uint8Array };
        try {
          res = decodeEnvelope<KvOkHeader | KvErrorHeader>(raw);
        } catch (e) {
          throw new KvClientError('INTERNAL', `${target}: undecodable reply: ${(e as Error).message}`, region.id);
        }
        if (res.tag === 0) return this.ok(region, target, res.header as KvOkHeader, res.body, o, unknown);
        const e = res.header as KvErrorHeader;
        f = { code: String(e.code), message: String(e.message), transport: false, notSent: false };
        if (e.leaderId) f.leaderId = e.leaderId;
        if (e.leaderAddress) f.leaderAddress = e.leaderAddress;
        if (this.behind(region, f.code, e, o.follower === true, tried)) {
          // This replica lags behind the routes (it has not applied the split, or not yet
          // created the region): not our routes' fault. Ask another one.
          f.behind = true;
        } else if (STALE_CODES.has(f.code)) {
          table.forgetLeader(region.id, f.code === 'NO_REGION_FOUND' ? target : undefined);
          // The store checks the version before anything else, so an epoch refusal that names the
          // very version we sent was decided at apply time (a split committed first), possibly
          // replayed from the retry cache: this call id is spent.
          const atApply = f.code === 'INVALID_REGION_EPOCH' && e.region?.id === region.id && e.region.epoch?.version === region.epoch.version;
          throw new StaleRoute(f.code, region.id, e.region, atApply, o.callId, unknown, `${target}: ${f.code}: ${f.message}`);
        }
      } catch (err) {
        if (err instanceof KvClientError || err instanceof StaleRoute) throw err;
        if (this.life.closed) throw closedError();
        if (!(err instanceof TransportError)) throw new KvClientError('INTERNAL', `${target}: ${(err as Error).message}`, region.id);
        f = { code: err.code, message: err.message, transport: true, notSent: err.notSent };
        if (STALE_CODES.has(f.code)) throw new StaleRoute(f.code, region.id, undefined, false, o.callId, unknown, `${target}: ${f.code}: ${f.message}`);
      }
      lastCode = f.code;
      lastErr = `${target}: ${f.code}: ${f.message}`;

      // What to do next, and how long to wait first.
      let wait: number;
      if (f.behind) {
        table.forgetLeader(region.id, target);
        this.advancePast(region, target, o.follower === true);
        wait = firstTry ? 0 : backoffMs(round);
      } else if (f.transport) {
        if (!TRANSPORT_RETRY_CODES.has(f.code)) throw new KvClientError(f.code, lastErr, region.id);
        if (write && !f.notSent && TRANSPORT_UNKNOWN_CODES.has(f.code)) unknown = true;
        table.forgetLeader(region.id, target);
        this.advancePast(region, target, o.follower === true);
        wait = firstTry ? 0 : backoffMs(round);
      } else if (f.code === 'NOT_LEADER') {
        const hint = this.resolveHint(f.leaderId, f.leaderAddress);
        if (hint && hint !== target) {
          table.setLeader(region.id, hint);
          if (o.follower) redirectTo = hint;
          redirects++;
          wait = redirects <= 2 ? 0 : backoffMs(round);
        } else {
          table.forgetLeader(region.id, target);
          this.advancePast(region, target, o.follower === true);
          wait = firstTry ? 0 : backoffMs(round);
        }
      } else if (f.code === 'TIMEOUT') {
        // The store gave up waiting for the commit: the write may still apply. Same call id again.
        if (write) unknown = true;
        wait = backoffMs(round);
      } else if (RETRY_LATER_CODES.has(f.code)) {
        if (f.code !== 'SERVER_BUSY') table.forgetLeader(region.id, target);
        if (f.code === 'SHUTTING_DOWN') this.advancePast(region, target, o.follower === true);
        wait = backoffMs(round);
      } else {
        // INVALID_PARAMETER, TOO_SMALL_TO_SPLIT, UNKNOWN_CALLBACK, CALLBACK_FAILED, CROSS_REGION,
        // INTERNAL, and codes this client does not know.
        throw new KvClientError(f.code, lastErr, region.id);
      }

      if (o.budget.attempts >= this.s.maxRetries) {
        if (unknown) throw new KvClientError('UNKNOWN_OUTCOME', `write outcome unknown: gave up after ${o.budget.attempts} attempts (last: ${lastErr})`, region.id);
        throw new KvClientError(lastCode, `gave up after ${o.budget.attempts} attempts (tried ${[...tried].join(', ')}; last: ${lastErr})`, region.id);
      }
      if (Date.now() + wait >= o.deadline) throw this.deadline(region, unknown, tried, lastErr);
      if (wait > 0) await this.life.sleep(wait);
    }
  }

  private ok(region: RegionRoute, target: string, h: KvOkHeader, body: Uint8Array, o: SendOptions, unknown: boolean): KvResult {
    let res: KvResult;
    try {
      res = decodeResult(body);
    } catch (e) {
      throw new KvClientError('INTERNAL', `${target}: undecodable result: ${(e as Error).message}`, region.id);
    }
    const idx = typeof h?.index === 'number' ? h.index : typeof h?.appliedIndex === 'number' ? h.appliedIndex : 0;
    if (idx > (this.seenIndex.get(region.id) ?? 0)) this.seenIndex.set(region.id, idx);
    if (res.kind === 'error') {
      if (res.code === 'INVALID_REGION_EPOCH') {
        // A split committed before this write: refused at apply time (and cached under this call id).
        throw new StaleRoute('INVALID_REGION_EPOCH', region.id, undefined, true, o.callId, unknown, `${target}: INVALID_REGION_EPOCH at apply: ${res.message}`);
      }
      throw new KvClientError(res.code, `${target}: ${res.code}: ${res.message}`, region.id);
    }
    if (!o.follower) this.router.table.setLeader(region.id, target);
    return res;
  }

  /**
   * A refusal that says the replica lags rather than that the routes are stale: an epoch error
   * carrying an older version of this region than the client's, or NO_REGION_FOUND while other
   * replicas of the region have not been asked yet.
   */
  private behind(region: RegionRoute, code: string, e: KvErrorHeader, follower: boolean, tried: ReadonlySet<string>): boolean {
    if (code === 'INVALID_REGION_EPOCH') return e.region?.id === region.id && (e.region.epoch?.version ?? 0) < region.epoch.version;
    if (code === 'NO_REGION_FOUND') return this.candidates(region, follower).some((p) => !tried.has(p));
    return false;
  }

  private deadline(region: RegionRoute, unknown: boolean, tried: Set<string>, lastErr: string): KvClientError {
    const what = `no success within the deadline (region ${region.id}; tried ${[...tried].join(', ') || 'nothing'}${lastErr ? `; last: ${lastErr}` : ''})`;
    if (unknown) return new KvClientError('UNKNOWN_OUTCOME', `write outcome unknown: ${what}`, region.id);
    return new KvClientError('DEADLINE_EXCEEDED', what, region.id);
  }

  private candidates(region: RegionRoute, follower: boolean): readonly string[] {
    const ids = (follower ? [...region.voters, ...region.learners] : region.voters).map((p) => p.id);
    return ids.length > 0 ? ids : this.router.endpointIds;
  }

  private pick(region: RegionRoute, follower: boolean): string {
    if (!follower) {
      const l = this.router.table.leaderOf(region.id);
      if (l) return l;
    }
    const peers = this.candidates(region, follower);
    let i = this.cursor.get(region.id);
    if (i === undefined) {
      // Followers reads spread over the replicas; leader searches start at the first voter.
      i = follower ? Math.floor(Math.random() * peers.length) : 0;
      this.cursor.set(region.id, i);
    }
    return peers[i % peers.length]!;
  }

  private advancePast(region: RegionRoute, target: string, follower: boolean): void {
    const peers = this.candidates(region, follower);
    const at = peers.indexOf(target);
    this.cursor.set(region.id, at >= 0 ? at + 1 : (this.cursor.get(region.id) ?? 0) + 1);
  }

  /** The transport id a leader hint names, if the client can reach it. */
  private resolveHint(leaderId: string | undefined, leaderAddress: string | undefined): string | undefined {
    if (leaderId && this.router.knows(leaderId)) return leaderId;
    if (leaderAddress) {
      const id = leaderId || addressId(leaderAddress);
      this.router.registerPeer(id, leaderAddress);
      if (this.router.knows(id)) return id;
    }
    return undefined;
  }
}
