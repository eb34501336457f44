// The retry cache: the reply of every client call applied, keyed by (clientId, callId), so a
// retried call is answered with its original reply and never applied twice.
//
// It is filled on every replica while applying (so a new leader deduplicates too) and it is
// deterministic: expiry uses the leader-stamped times carried in the log, and clients report in
// each call the lowest call id they still wait for, so every replica drops the same entries.
// It travels inside snapshots.

export interface CachedReply {
  /** Log index of the entry that applied the call. */
  readonly index: number;
  /** Leader-stamped time of that entry (ms). */
  readonly stampMs: number;
  /** The state machine's reply (or, when `failed`, why there is none). */
  readonly reply: Uint8Array;
  /**
   * True when the reply was not kept: the call was applied before this replica restarted and was
   * learned again from the log. A retry is still never applied twice; it gets RESULT_UNAVAILABLE.
   */
  readonly failed: boolean;
}

export class RetryCache {
  /** clientId -> callId -> reply. */
  private readonly byClient = new Map<string, Map<number, CachedReply>>();
  /** Per client, the highest firstUnreplied already released (releases below it are no-ops). */
  private readonly releasedBelow = new Map<string, number>();
  /**
   * Every put, in apply order: the expiry queue. Stamps follow log order (a new leader's clock
   * may lag an old one's, which only makes some entries expire later, never earlier), so expiry
   * pops from the front instead of scanning the cache. Entries released early are skipped.
   */
  private readonly order: Array<{ clientId: string; callId: number; stampMs: number }> = [];
  private orderHead = 0;
  /** Newest stamp applied: "now" for expiry, identical on every replica. */
  private clockMs = 0;
  private size_ = 0;

  constructor(readonly expiryMs: number) {}

  get size(): number {
    return this.size_;
  }

  get(clientId: string, callId: number): CachedReply | undefined {
    return this.byClient.get(clientId)?.get(callId);
  }

  put(clientId: string, callId: number, r: CachedReply): void {
    let m = this.byClient.get(clientId);
    if (!m) {
      m = new Map();
      this.byClient.set(clientId, m);
    }
    if (!m.has(callId)) this.size_++;
    m.set(callId, r);
    this.order.push({ clientId, callId, stampMs: r.stampMs });
  }

  private remove(clientId: string, callId: number): void {
    const m = this.byClient.get(clientId);
    if (!m || !m.delete(callId)) return;
    this.size_--;
    if (m.size === 0) {
      this.byClient.delete(clientId);
      this.releasedBelow.delete(clientId);
    }
  }

  /**
   * The client has received every reply below `firstUnreplied`: those can go. Replies are kept in
   * apply order, which follows call ids closely, so this walks from the oldest and stops at the
   * first id still wanted: amortised O(1) per call. A reply applied out of order behind that
   * point stays until it expires, which is only later, never wrong.
   */
  release(clientId: string, firstUnreplied: number): void {
    const m = this.byClient.get(clientId);
    if (!m || firstUnreplied <= (this.releasedBelow.get(clientId) ?? 0)) return;
    this.releasedBelow.set(clientId, firstUnreplied);
    for (const id of m.keys()) {
      if (id >= firstUnreplied) break;
      m.delete(id);
      this.size_--;
    }
    if (m.size === 0) {
      this.byClient.delete(clientId);
      this.releasedBelow.delete(clientId);
    }
  }

  /** Advances the cache clock to a newly applied stamp and drops expired replies. */
  tick(stampMs: number): void {
    if (stampMs <= this.clockMs) return;
    this.clockMs = stampMs;
    const cut = stampMs - this.expiryMs;
    while (this.orderHead < this.order.length && this.order[this.orderHead]!.stampMs < cut) {
      const e = this.order[this.orderHead++]!;
      if (this.get(e.clientId, e.callId)?.stampMs === e.stampMs) this.remove(e.clientId, e.callId);
    }
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order.splice(0, this.orderHead);
      this.orderHead = 0;
    }
  }

  serialize(): Uint8Array {
    const rows: Array<[string, number, number, number, string, boolean]> = [];
    for (const [client, m] of this.byClient) {
      for (const [id, r] of m) rows.push([client, id, r.index, r.stampMs, Buffer.from(r.reply).toString('base64'), r.failed]);
    }
    // Apply order (by log index), so a restored replica rebuilds the same expiry queue.
    rows.sort((a, b) => a[2] - b[2]);
    return new TextEncoder().encode(JSON.stringify({ clockMs: this.clockMs, rows }));
  }

  static deserialize(data: Uint8Array, expiryMs: number): RetryCache {
    const c = new RetryCache(expiryMs);
    const o = JSON.parse(new TextDecoder().decode(data)) as { clockMs: number; rows: Array<[string, number, number, number, string, boolean]> };
    c.clockMs = o.clockMs;
    for (const [client, id, index, stampMs, reply, failed] of o.rows) {
      c.put(client, id, { index, stampMs, reply: new Uint8Array(Buffer.from(reply, 'base64')), failed });
    }
    return c;
  }
}
