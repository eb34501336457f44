// The invariants checked while a simulation runs. Every check throws a SimViolation with a
// message a person can act on; the run then prints the seed, the replay command and the trace.
//
//  - election safety: at most one leader per term (over the whole run, across restarts);
//  - log matching: two durable logs holding an entry with the same (index, term) hold the same
//    entry there and the same entries before it (checked incrementally: every durable (index,
//    term) has one content and one predecessor term);
//  - leader completeness: a new leader's log holds every entry committed before;
//  - state machine safety: no two nodes apply different entries (or reach different states) at
//    one index; a node applies indexes contiguously; committed entries never change;
//  - no lost or duplicated writes: every write acknowledged to a client is applied exactly once by
//    every node at the end;
//  - linearizable reads: a read returns a version at least as new as every write of its key that
//    was acknowledged before the read began;
//  - the persistence contract: no vote granted, append acknowledged, or message of a term sent
//    before the matching state was durable; no node grants two votes in one term.

import type { MemoryStorage } from '../raft/core/memory-storage.js';
import { type Entry, type HardState, type Message, MessageType, type NodeId } from '../raft/core/types.js';
import { type ConfState, EntryType } from '../raft/core/types.js';

function describeConf(cs: ConfState): string {
  let s = `voters{${cs.voters.join(',')}}`;
  if (cs.votersOutgoing.length > 0) s += ` outgoing{${cs.votersOutgoing.join(',')}}`;
  if (cs.learners.length > 0) s += ` learners{${cs.learners.join(',')}}`;
  if (cs.learnersNext.length > 0) s += ` learnersNext{${cs.learnersNext.join(',')}}`;
  return s;
}

function describeConfJson(j: string): string {
  const [voters, votersOutgoing, learners, learnersNext, autoLeave] = JSON.parse(j) as [string[], string[], string[], string[], boolean];
  return describeConf({ voters, votersOutgoing, learners, learnersNext, autoLeave });
}
import { type KvStateMachine, decodeWrite, entryHash } from './state-machine.js';

export type ViolationKind =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'apply-order'
  | 'lost-write'
  | 'duplicate-write'
  | 'stale-read'
  | 'persistence-contract'
  | 'double-vote'
  | 'liveness'
  | 'core-error';

export class SimViolation extends Error {
  constructor(
    readonly kind: ViolationKind,
    message: string,
  ) {
    super(`[${kind}] ${message}`);
    this.name = 'SimViolation';
  }
}

function fail(kind: ViolationKind, message: string): never {
  throw new SimViolation(kind, message);
}

interface LogFact {
  readonly term: number;
  readonly hash: number;
  readonly prevTerm: number;
  readonly node: NodeId;
}

export interface AckedWrite {
  readonly id: number;
  readonly key: string;
  readonly index: number;
  readonly term: number;
  readonly node: NodeId;
  readonly time: number;
}

export class Checker {
  /** term -> the node that led it. */
  private readonly leaders = new Map<number, NodeId>();
  /** `${node}/${term}` -> the candidate the node granted its vote to. */
  private readonly votes = new Map<string, NodeId>();
  /** index -> facts about durable entries at that index (one per term). */
  private readonly logFacts = new Map<number, LogFact[]>();
  /** Committed entries: term and content per index (sparse until known). */
  private readonly committedTerm: number[] = [];
  private readonly committedHash: number[] = [];
  private readonly committedBy: NodeId[] = [];
  private readonly committedEntry: (Entry | undefined)[] = [];
  /**
   * Per committed index: the lowest term a node was in when it learned the entry was committed.
   * The entry was committed in that term or earlier, so every leader of a later term must hold
   * it (leader completeness).
   */
  private readonly committedKnownInTerm: number[] = [];
  /** State-machine hash chain after applying each index, as first seen (and by whom). */
  private readonly chainAt: number[] = [];
  private readonly chainBy: NodeId[] = [];
  /** Looks up a node's current state machine (for diagnosing a divergence). */
  stateMachineOf: (node: NodeId) => KvStateMachine | undefined = () => undefined;
  maxCommitted = 0;
  /** Per node: highest index whose commitment was recorded from its durable hard state. */
  private readonly commitWatermark = new Map<NodeId, number>();

  readonly acked = new Map<number, AckedWrite>();
  /** key -> highest log index of a write of that key acknowledged so far. */
  private readonly ackedVersion = new Map<string, number>();

  readonly counts = { leaders: 0, readsChecked: 0, acked: 0, applied: 0 };

  // ---- elections and votes ----

  onLeader(node: NodeId, term: number): void {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== node) {
      fail('election-safety', `two leaders in term ${term}: ${prev} and ${node}`);
    }
    if (prev === undefined) this.counts.leaders++;
    this.leaders.set(term, node);
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  /**
   * Checks a message as it leaves `node`. `durable` is the node's durable hard state and storage
   * at that moment; `afterPersist` says from which list of the Ready it came.
   */
  onSend(node: NodeId, m: Message, durableHs: HardState, storage: MemoryStorage, afterPersist: boolean): void {
    const t = m.type;
    if (t === MessageType.PreVote || t === MessageType.PreVoteResp) return;
    if (m.term > durableHs.term) {
      fail(
        'persistence-contract',
        `${node} sent ${t} of term ${m.term} to ${m.to} (${afterPersist ? 'messagesAfterPersist' : 'messages'}) while its durable term is ${durableHs.term}`,
      );
    }
    if (t === MessageType.VoteResp && !m.reject) {
      if (!afterPersist) fail('persistence-contract', `${node} granted a vote to ${m.to} in Ready.messages (before persisting)`);
      // Durable: either this very vote, or a later term (which can never vote in m.term again).
      if (durableHs.term < m.term || (durableHs.term === m.term && durableHs.vote !== m.to)) {
        fail(
          'persistence-contract',
          `${node} granted its term-${m.term} vote to ${m.to} but its durable hard state is term ${durableHs.term} vote '${durableHs.vote}'`,
        );
      }
      const k = `${node}/${m.term}`;
      const prev = this.votes.get(k);
      if (prev !== undefined && prev !== m.to) {
        fail('double-vote', `${node} granted votes to both ${prev} and ${m.to} in term ${m.term}`);
      }
      this.votes.set(k, m.to);
    }
    if (t === MessageType.AppResp && !m.reject) {
      if (!afterPersist) fail('persistence-contract', `${node} acknowledged an append to ${m.to} in Ready.messages (before persisting)`);
      const idx = m.index ?? 0;
      if (idx > storage.lastIndex()) {
        fail(
          'persistence-contract',
          `${node} acknowledged index ${idx} to ${m.to} but its durable log ends at ${storage.lastIndex()}`,
        );
      }
    }
  }

  // ---- durable logs ----

  /** Called after `entries` were written to `node`'s durable storage. */
  onDurableEntries(node: NodeId, storage: MemoryStorage, entries: readonly Entry[]): void {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    for (const e of entries) {
      if (e.index < first || e.index > last) continue;
      const prevTerm = storage.term(e.index - 1);
      const hash = entryHash(e);
      let facts = this.logFacts.get(e.index);
      if (!facts) {
        facts = [];
        this.logFacts.set(e.index, facts);
      }
      let found = false;
      for (const f of facts) {
        if (f.term !== e.term) continue;
        found = true;
        if (f.hash !== hash) {
          fail('log-matching', `durable entry ${e.index}@t${e.term} on ${node} differs from the one ${f.node} holds at the same index and term`);
        }
        if (f.prevTerm !== prevTerm) {
          fail(
            'log-matching',
            `entry ${e.index}@t${e.term} follows an entry of term ${prevTerm} on ${node} but one of term ${f.prevTerm} on ${f.node}: logs diverge before a matching entry`,
          );
        }
        break;
      }
      if (!found) facts.push({ term: e.term, hash, prevTerm, node });
      // A durable entry at a committed index must be the committed one... except on a follower
      // still listening to a stale leader; only leaders are held to that (leader completeness).
    }
  }

  /** Called after `hs` was made durable on `node`: everything up to hs.commit is committed. */
  onDurableCommit(node: NodeId, storage: MemoryStorage, commit: number, nodeTerm: number): void {
    const from = Math.max((this.commitWatermark.get(node) ?? 0) + 1, storage.firstIndex());
    const to = Math.min(commit, storage.lastIndex());
    if (to < from) return;
    const ents = storage.entries(from, to + 1, Infinity);
    for (const e of ents) this.recordCommitted(node, e, 'durable commit index', nodeTerm);
    this.commitWatermark.set(node, to);
  }

  private recordCommitted(node: NodeId, e: Entry, how: string, nodeTerm: number): void {
    const { index, term } = e;
    const hash = entryHash(e);
    const t = this.committedTerm[index];
    const known = this.committedKnownInTerm[index];
    if (known === undefined || nodeTerm < known) this.committedKnownInTerm[index] = nodeTerm;
    if (t === undefined) {
      this.committedTerm[index] = term;
      this.committedHash[index] = hash;
      this.committedBy[index] = node;
      this.committedEntry[index] = e;
      if (index > this.maxCommitted) this.maxCommitted = index;
      return;
    }
    if (t !== term || this.committedHash[index] !== hash) {
      fail(
        'state-machine-safety',
        `two different entries committed at index ${index}: ${index}@t${t} (first seen on ${this.committedBy[index]}) and ${index}@t${term} on ${node} (${how})`,
      );
    }
  }

  committedTermAt(index: number): number | undefined {
    return this.committedTerm[index];
  }

  /**
   * Leader completeness: `node`, leader of `term`, has made its log durable (the Ready carrying
   * its first entry of the term was persisted). Every entry known to have been committed in an
   * earlier term must be in it.
   */
  checkLeaderCompleteness(node: NodeId, term: number, storage: MemoryStorage, inMemoryLastIndex: number): void {
    const snapIndex = storage.firstIndex() - 1;
    const last = storage.lastIndex();
    for (let i = Math.max(snapIndex, 1); i <= this.maxCommitted; i++) {
      const ct = this.committedTerm[i];
      if (ct === undefined || this.committedKnownInTerm[i]! >= term) continue;
      if (i > last) {
        if (i > inMemoryLastIndex) {
          fail(
            'leader-completeness',
            `${node} became leader of term ${term} with last index ${inMemoryLastIndex}, but ${i}@t${ct} had been committed by term ${this.committedKnownInTerm[i]} (first seen on ${this.committedBy[i]})`,
          );
        }
        continue;
      }
      const lt = storage.term(i);
      if (lt !== ct) {
        fail(
          'leader-completeness',
          `${node} became leader of term ${term} holding ${i}@t${lt}, but ${i}@t${ct} had been committed by term ${this.committedKnownInTerm[i]} (first seen on ${this.committedBy[i]})`,
        );
      }
      if (i > snapIndex) {
        const e = storage.entries(i, i + 1, Infinity)[0]!;
        if (entryHash(e) !== this.committedHash[i]) {
          fail('leader-completeness', `${node} (leader of term ${term}) holds a different entry at committed ${i}@t${ct}`);
        }
      }
    }
  }

  // ---- applied state ----

  /** Called before `node` (currently in `nodeTerm`) applies committed entry `e`. */
  beforeApply(node: NodeId, e: Entry, expectedIndex: number, nodeTerm: number): void {
    if (e.index !== expectedIndex) {
      fail('apply-order', `${node} was given committed entry ${e.index}@t${e.term} to apply, but its next index to apply is ${expectedIndex}`);
    }
    this.counts.applied++;
    this.recordCommitted(node, e, 'applied', nodeTerm);
  }

  /** Called after `node` applied the entry at `index`: its state must match everyone's there. */
  afterApply(node: NodeId, index: number, sm: KvStateMachine): void {
    if (sm.ids.length !== sm.idSet.size) {
      fail('duplicate-write', `${node} applied write ${sm.ids[sm.ids.length - 1]} a second time at index ${index}`);
    }
    const c = this.chainAt[index];
    if (c === undefined) {
      this.chainAt[index] = sm.chain;
      this.chainBy[index] = node;
    } else if (c !== sm.chain) {
      this.divergence(node, sm, index, `${node}'s state after applying index ${index} differs from ${this.chainBy[index]}'s state after the same index`);
    }
  }

  private divergence(node: NodeId, sm: KvStateMachine, index: number, what: string): never {
    const mine = this.diagnose(sm, index);
    const otherNode = this.chainBy[index]!;
    const otherSm = this.stateMachineOf(otherNode);
    const other = otherSm && otherNode !== node ? this.diagnose(otherSm, otherSm.applied) : undefined;
    const lost = mine.lostAcked || (other?.lostAcked ?? false);
    fail(
      lost ? 'lost-write' : 'state-machine-safety',
      `${what}. ${node}: ${mine.text}` + (other ? `. ${otherNode} (now at index ${otherSm!.applied}): ${other.text}` : ''),
    );
  }

  /** Explains how `sm` (at `index`) differs from the committed sequence of writes. */
  diagnose(sm: KvStateMachine, index: number): { text: string; lostAcked: boolean } {
    let lostAcked = false;
    const missing: string[] = [];
    const expected = new Set<number>();
    for (let i = 1; i <= index; i++) {
      const e = this.committedEntry[i];
      if (!e || e.type !== EntryType.Normal || e.data.length === 0) continue;
      const w = decodeWrite(e.data);
      expected.add(w.id);
      if (!sm.idSet.has(w.id)) {
        const a = this.acked.get(w.id);
        if (a) lostAcked = true;
        missing.push(`write ${w.id} (${i}@t${e.term}${a ? `, acknowledged to its client by ${a.node} at ${a.time}ms` : ', not acknowledged'})`);
      }
    }
    const extra = sm.ids.filter((id) => !expected.has(id));
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`LOST ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
    if (extra.length > 0) parts.push(`extra writes ${extra.slice(0, 5).join(', ')}`);
    if (sm.ids.length !== sm.idSet.size) parts.push('a write applied twice');
    return { text: parts.length > 0 ? parts.join('; ') : 'writes as committed', lostAcked };
  }

  /** Called when `node` restored its state machine from a snapshot at `index`. */
  onRestore(node: NodeId, index: number, term: number, sm: KvStateMachine): void {
    if (index === 0) return;
    const ct = this.committedTerm[index];
    if (ct !== undefined && ct !== term) {
      fail('state-machine-safety', `${node} installed a snapshot at ${index}@t${term}, but ${index}@t${ct} was committed`);
    }
    const c = this.chainAt[index];
    if (c === undefined) {
      this.chainAt[index] = sm.chain;
      this.chainBy[index] = node;
    } else if (c !== sm.chain) {
      this.divergence(node, sm, index, `${node} installed a snapshot at index ${index} whose state differs from ${this.chainBy[index]}'s state after that index`);
    }
  }

  // ---- membership ----

  private readonly confAt = new Map<number, { conf: string; node: NodeId }>();

  /**
   * `node` reports its membership as of log index `index`. Replicas that applied the same
   * prefix of the log must agree on it (a fresh node's empty configuration at index 0 aside).
   */
  onConfState(node: NodeId, index: number, cs: ConfState): void {
    const empty = cs.voters.length + cs.votersOutgoing.length + cs.learners.length + cs.learnersNext.length === 0;
    if (index === 0 && empty) return;
    const conf = JSON.stringify([cs.voters, cs.votersOutgoing, cs.learners, cs.learnersNext, cs.autoLeave]);
    const prev = this.confAt.get(index);
    if (!prev) {
      this.confAt.set(index, { conf, node });
      return;
    }
    if (prev.conf !== conf) {
      fail(
        'state-machine-safety',
        `membership diverged: after index ${index}, ${node} has ${describeConf(cs)} but ${prev.node} had ${describeConfJson(prev.conf)}`,
      );
    }
  }

  // ---- clients ----

  onAck(w: AckedWrite): void {
    if (this.acked.has(w.id)) fail('duplicate-write', `write ${w.id} acknowledged twice`);
    this.acked.set(w.id, w);
    this.counts.acked++;
    const v = this.ackedVersion.get(w.key) ?? 0;
    if (w.index > v) this.ackedVersion.set(w.key, w.index);
  }

  /** The version a read of `key` starting now must at least return. */
  readFloor(key: string): number {
    return this.ackedVersion.get(key) ?? 0;
  }

  onRead(node: NodeId, reqId: string, key: string, floor: number, got: { id: number; index: number } | undefined, readIndex: number, lease: boolean): void {
    this.counts.readsChecked++;
    const version = got?.index ?? 0;
    if (version < floor) {
      fail(
        'stale-read',
        `read ${reqId} of key ${key} on ${node}${lease ? ' (lease)' : ''} at read index ${readIndex} returned version ${version}` +
          `${got ? ` (write ${got.id})` : ' (no value)'}, but the write at index ${floor} was acknowledged before the read began`,
      );
    }
  }

  // ---- end of run ----

  /**
   * Final safety check over the nodes that are members at the end: every acknowledged write was
   * applied exactly once by each of them.
   */
  finalWrites(members: readonly { id: NodeId; sm: KvStateMachine }[]): void {
    for (const { id, sm } of members) {
      if (sm.ids.length !== sm.idSet.size) fail('duplicate-write', `${id} applied some write twice`);
      for (const w of this.acked.values()) {
        if (!sm.idSet.has(w.id)) {
          fail(
            'lost-write',
            `write ${w.id} (key ${w.key}, ${w.index}@t${w.term}) was acknowledged to its client by ${w.node} at ${w.time}ms but ${id} (applied ${sm.applied}) never applied it`,
          );
        }
      }
    }
  }
}
