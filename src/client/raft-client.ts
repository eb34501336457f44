// RaftClient: talks to a Raft group served by RaftServer processes. Finds the leader (any
// server answers with a leader hint), caches it, follows redirects, and retries with
// exponential backoff and jitter within a total deadline, over one connection per server.
//
// Every write carries (clientId, callId); a retry reuses the pair, and the server's retry cache
// answers it with the original reply instead of applying it again. So a write whose reply was
// lost (connection dropped, timeout, leader killed) is retried safely within the deadline; only
// if the deadline passes without an answer does it fail with UNKNOWN_OUTCOME. Each write also
// reports the lowest call id still waiting, so servers can forget older replies early.

import { randomBytes } from 'node:crypto';
import { type AdminAction, type Consistency, type ErrorHeader, Op, decodeMessage, encodeMessage } from '../server/protocol.js';
import { TransportError } from '../transport/errors.js';
import { TcpTransport } from '../transport/tcp-transport.js';

export interface ServerAddress {
  readonly id: string;
  /** "host:port" */
  readonly address: string;
}

export interface RaftClientOptions {
  /** "host:port" strings, or {id, address} pairs when the node ids are known. */
  servers: ReadonlyArray<ServerAddress | string>;
  /** Raft group to talk to. Default "default". */
  groupId?: string;
  /** Total time one call may take, retries included. Default 10,000 ms. */
  timeoutMs?: number;
  /** Time one attempt may take. Default 3,000 ms. */
  attemptTimeoutMs?: number;
  /** Cluster name for the transport handshake. Default "raftkv". */
  cluster?: string;
}

export class RaftClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly leaderId?: string,
  ) {
    super(message);
    this.name = 'RaftClientError';
  }
}

/** Codes after which a write certainly was not applied, so it may be sent again. */
const RETRY_WRITE = new Set(['NOT_LEADER', 'BUSY', 'TRANSFERRING_LEADERSHIP', 'LEADER_CHANGED', 'NO_LEADER']);
/** Failures after which a write's fate is unknown; retried with the same call id. */
const UNKNOWN_RETRY = new Set(['TIMEOUT', 'CLOSED', 'UNREACHABLE', 'REMOTE_ERROR']);
/** Codes after which a read may be sent again (reads change nothing). */
const RETRY_READ = new Set([...RETRY_WRITE, 'TIMEOUT', 'UNREACHABLE', 'CLOSED', 'QUEUE_FULL']);

export class RaftClient {
  private readonly transport: TcpTransport;
  private readonly servers: ServerAddress[];
  private readonly groupId: string;
  private readonly timeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private leader: string | undefined;
  private next = 0;
  /** Identifies this client's calls in the servers' retry cache. */
  readonly clientId = `c-${randomBytes(8).toString('hex')}`;
  private nextCallId = 1;
  /** Calls sent and not yet answered (their replies must stay cached), in increasing call id order. */
  private readonly inFlight = new Set<number>();

  /** The lowest call id still waiting: a Set keeps insertion order, and ids only grow. */
  private firstUnreplied(): number {
    return this.inFlight.values().next().value ?? this.nextCallId;
  }

  constructor(o: RaftClientOptions) {
    if (o.servers.length === 0) throw new RaftClientError('INVALID_ARGUMENT', 'at least one server is needed');
    this.servers = o.servers.map((s) => (typeof s === 'string' ? { id: `@${s}`, address: s } : s));
    this.groupId = o.groupId ?? 'default';
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.attemptTimeoutMs = o.attemptTimeoutMs ?? 3_000;
    this.transport = new TcpTransport({ nodeId: `client-${randomBytes(6).toString('hex')}`, cluster: o.cluster ?? 'raftkv', logger: quiet });
    for (const s of this.servers) {
      const m = /^(.*):(\d+)$/.exec(s.address);
      if (!m) throw new RaftClientError('INVALID_ARGUMENT', `bad address '${s.address}' for ${s.id} (want host:port)`);
      this.transport.setPeer(s.id, m[1]!, Number(m[2]));
    }
  }

  /** Replicates a command; resolves with its log position and the state machine's result. */
  async apply(data: Uint8Array, opts: { expectedTerm?: number } = {}): Promise<{ term: number; index: number; result: Uint8Array }> {
    const callId = this.nextCallId++;
    this.inFlight.add(callId);
    try {
      const header = (): object => ({ ...opts, clientId: this.clientId, callId, firstUnreplied: this.firstUnreplied() });
      const r = await this.call(Op.Apply, header, data, true);
      const h = r.header as { term: number; index: number };
      return { term: h.term, index: h.index, result: r.body };
    } finally {
      this.inFlight.delete(callId);
    }
  }

  /** Reads through the state machine's query hook at the given consistency (default linearizable). */
  async query(request: Uint8Array, opts: { consistency?: Consistency; minIndex?: number; server?: string } = {}): Promise<{ result: Uint8Array; appliedIndex: number }> {
    const header = { consistency: opts.consistency ?? 'linearizable', ...(opts.minIndex !== undefined ? { minIndex: opts.minIndex } : {}) };
    const r = await this.call(Op.Query, header, request, false, opts.server);
    return { result: r.body, appliedIndex: (r.header as { appliedIndex: number }).appliedIndex };
  }

  /** Status of one server (default: the leader). */
  async status(server?: string): Promise<Record<string, unknown>> {
    const r = await this.call(Op.Status, {}, undefined, false, server);
    return r.header as Record<string, unknown>;
  }

  async admin(action: AdminAction): Promise<unknown> {
    return (await this.call(Op.Admin, action, undefined, true)).header;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** The server a leader hint points at (by id, or by address for address-only servers). */
  private resolveHint(id: string | undefined, address: string | undefined, current: string): string | undefined {
    const s = this.servers.find((x) => (id !== undefined && x.id === id) || (address !== undefined && x.address === address));
    return s && s.id !== current ? s.id : undefined;
  }

  private pick(server?: string): string {
    if (server) return this.servers.find((s) => s.id === server || s.address === server)?.id ?? server;
    if (this.leader) return this.leader;
    const s = this.servers[this.next % this.servers.length]!;
    this.next++;
    return s.id;
  }

  /**
   * One call with retries. `write` calls carry a (clientId, callId) in `header`, so any failure
   * may be retried: the retry cache makes it apply at most once.
   */
  private async call(op: Op, header: unknown, body: Uint8Array | undefined, write: boolean, server?: string): Promise<{ header: unknown; body: Uint8Array }> {
    const deadline = Date.now() + this.timeoutMs;
    const tried: string[] = [];
    let attempt = 0;
    let lastErr = '';
    /** Some attempt of this write may have reached a leader without an answer. */
    let unknown = false;
    for (;;) {
      const target = this.pick(server);
      tried.push(target);
      let code: string;
      let leaderId: string | undefined;
      let leaderAddress: string | undefined;
      let notSent = false;
      try {
        const payload = encodeMessage(op, typeof header === 'function' ? (header as () => object)() : header, body);
        const raw = await this.transport.request(target, this.groupId, payload, { timeoutMs: Math.max(1, Math.min(this.attemptTimeoutMs, deadline - Date.now())) });
        const res = decodeMessage<unknown>(raw);
        if (res.tag === 0) {
          if (!server && write) this.leader = target;
          return { header: res.header, body: res.body };
        }
        const e = res.header as ErrorHeader;
        code = e.code;
        leaderAddress = e.leaderAddress;
        // The server gave up waiting for the commit: the write may still apply.
        if (write && code === 'TIMEOUT') unknown = true;
        leaderId = e.leaderId;
        lastErr = `${target}: ${e.code}: ${e.message}`;
      } catch (err) {
        code = err instanceof TransportError ? err.code : 'INTERNAL';
        lastErr = `${target}: ${code}: ${(err as Error).message}`;
        notSent = err instanceof TransportError && err.notSent;
        if (code === 'TIMEOUT' || code === 'CLOSED' || code === 'UNREACHABLE' || code === 'REMOTE_ERROR') {
          // The request may have reached the leader; a retry with the same call id is safe.
          unknown = unknown || (write && !notSent);
          this.leader = undefined;
        }
      }
      const retry = (write ? RETRY_WRITE : RETRY_READ).has(code) || notSent || (write && unknown && UNKNOWN_RETRY.has(code));
      if (!retry) throw new RaftClientError(code, lastErr, leaderId);
      if (code === 'NOT_LEADER' || code === 'NO_LEADER' || code === 'UNREACHABLE' || code === 'CLOSED' || code === 'TIMEOUT' || code === 'QUEUE_FULL') {
        this.leader = this.resolveHint(leaderId, leaderAddress, target);
      }
      attempt++;
      const redirect = code === 'NOT_LEADER' && this.leader !== undefined && attempt < 3;
      const wait = redirect ? 0 : Math.min(1000, 20 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
      if (Date.now() + wait >= deadline) {
        const what = `no success within ${this.timeoutMs} ms after ${attempt} attempts (tried ${[...new Set(tried)].join(', ')}; last: ${lastErr})`;
        // A write that may have reached a leader and got no answer: it may have been applied.
        if (unknown) throw new RaftClientError('UNKNOWN_OUTCOME', `write outcome unknown: ${what}`);
        throw new RaftClientError('DEADLINE_EXCEEDED', what);
      }
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
}

const quiet = { debug() {}, info() {}, warn() {} };
