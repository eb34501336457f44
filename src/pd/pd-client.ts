// One request to the placement driver from outside its group (the CLI, a store asking for its
// id before it starts): a short-lived transport, each address tried in turn, NOT_LEADER hints
// followed to PD's leader, SERVER_BUSY and NO_LEADER retried until the deadline.

import { randomBytes } from 'node:crypto';
import { parseAddress } from '../config/address.js';
import type { KvErrorHeader } from '../kv/protocol.js';
import { decodeEnvelope, encodeEnvelope } from '../raft/runtime/rpc-router.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import type { PdTag } from './pd-protocol.js';

export class PdCallError extends Error {
  constructor(
    /** A KvErrorCode PD answered with, or 'UNAVAILABLE' when no PD leader answered in time. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PdCallError';
  }
}

export interface PdCallOptions {
  /** "host:port" of PD nodes (or of stores hosting PD). */
  readonly addresses: readonly string[];
  /** Transport handshake cluster name. Default 'raftkv'. */
  readonly cluster?: string;
  /** Default 10_000. */
  readonly timeoutMs?: number;
  /**
   * Retry SERVER_BUSY too (AllocId during a new PD leader's warm-up). Default false: an admin
   * action refused SERVER_BUSY (an operator already runs on the region) is the caller's answer.
   */
  readonly retryBusy?: boolean;
}

const quiet = { debug() {}, info() {}, warn() {} };
/** Answers that mean "ask again" (elsewhere or a little later). */
const RETRIED = new Set(['NOT_LEADER', 'NO_LEADER', 'SHUTTING_DOWN']);

export async function pdCall<T>(o: PdCallOptions, tag: PdTag, header: unknown): Promise<T> {
  const t = new TcpTransport({ nodeId: `pdc-${randomBytes(6).toString('hex')}`, cluster: o.cluster ?? 'raftkv', logger: quiet });
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  const known = new Set<string>();
  const reach = (address: string): string | undefined => {
    const a = parseAddress(address);
    if (!a) return undefined;
    const id = `@${address}`;
    if (!known.has(id)) {
      known.add(id);
      t.setPeer(id, a.host, a.port);
    }
    return id;
  };
  let last = 'no PD address answered';
  let round = 0;
  try {
    while (Date.now() < deadline) {
      const queue = [...o.addresses];
      const tried = new Set<string>();
      /** Addresses that answered but run no PD at all (a store without --pd). */
      let noPd = 0;
      while (queue.length > 0 && Date.now() < deadline) {
        const address = queue.shift()!;
        if (tried.has(address)) continue;
        tried.add(address);
        const id = reach(address);
        if (!id) continue;
        try {
          const raw = await t.request(id, '', encodeEnvelope(tag, header), { timeoutMs: Math.max(1, Math.min(3000, deadline - Date.now())) });
          const res = decodeEnvelope<T | KvErrorHeader>(raw);
          if (res.tag === 0) return res.header as T;
          const e = res.header as KvErrorHeader;
          last = `${address}: ${e.code}: ${e.message}`;
          if (!RETRIED.has(e.code) && !(o.retryBusy && e.code === 'SERVER_BUSY')) throw new PdCallError(e.code, e.message);
          if (e.code === 'NOT_LEADER' && e.leaderAddress) queue.unshift(e.leaderAddress);
        } catch (e) {
          if (e instanceof PdCallError) throw e;
          last = `${address}: ${(e as Error).message}`;
          if (/no service for request tag/.test((e as Error).message)) noPd++;
        }
      }
      if (noPd > 0 && noPd === tried.size) throw new PdCallError('UNAVAILABLE', `no placement driver runs at ${[...tried].join(', ')}`);
      // Nobody answered for good this round (an election, a warm-up): wait a little, then again.
      await new Promise((r) => setTimeout(r, Math.min(200 * ++round, 1000, Math.max(0, deadline - Date.now()))));
    }
  } finally {
    await t.close();
  }
  throw new PdCallError('UNAVAILABLE', `the placement driver did not answer in time (${last})`);
}
