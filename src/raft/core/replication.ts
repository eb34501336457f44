// Log replication, both sides: the leader sending AppendEntries, heartbeats and snapshots and
// handling their responses; the follower checking and appending them.

import { RaftError, invariant } from './errors.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import { entriesSize } from './storage.js';
import { type Entry, type Message, MessageType, ProgressState, Role, type Snapshot } from './types.js';
import { applyConfState } from './membership.js';

// ---------------------------------------------------------------- leader side

/**
 * Sends the next AppendEntries to `to` if its progress allows. With sendIfEmpty false, only
 * sends when there are entries to send. Returns whether a message was sent.
 */
export function sendAppend(r: Raft, to: string, sendIfEmpty = true): boolean {
  const pr = r.trk.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) return sendSnapshot(r, to, pr);
  let ents: Entry[];
  try {
    ents = r.log.slice(pr.next, r.log.lastIndex() + 1, r.opts.maxSizePerMsgBytes);
  } catch (e) {
    if (e instanceof RaftError && e.code === 'COMPACTED') return sendSnapshot(r, to, pr);
    throw e;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  r.send({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: r.log.committed });
  if (ents.length > 0) pr.sentEntries(ents.length, ents[ents.length - 1]!.index, entriesSize(ents));
  return true;
}

function sendSnapshot(r: Raft, to: string, pr: Progress): boolean {
  // A peer we have not heard from lately is probably down: do not ship it a snapshot.
  if (!pr.recentActive) return false;
  let snap: Snapshot;
  try {
    snap = r.log.snapshot();
  } catch (e) {
    if (e instanceof RaftError && e.code === 'SNAPSHOT_TEMPORARILY_UNAVAILABLE') return false;
    throw e;
  }
  invariant(snap.meta.index > 0, `peer ${to} needs a snapshot but none exists`);
  pr.becomeSnapshot(snap.meta.index);
  r.send({ type: MessageType.Snap, to, snapshot: snap });
  return true;
}

/** Sends new entries (or the new commit index) to every peer. */
export function bcastAppend(r: Raft): void {
  for (const id of r.trk.progress.keys()) {
    if (id !== r.id) sendAppend(r, id);
  }
}

/**
 * Heartbeats to every peer. Each broadcast has a sequence number (the message context) so that
 * answers can confirm read-index rounds and extend the lease. With `readIndex`, the requests
 * waiting for a read round join this broadcast with that read point.
 */
export function bcastHeartbeat(r: Raft, readIndex?: number): void {
  const seq = r.readOnly.nextHeartbeat(r.tickCount);
  if (readIndex !== undefined) r.readOnly.startRound(seq, readIndex, r.id);
  const context = String(seq);
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id) continue;
    // Never tell a follower to commit past what it is known to hold.
    r.send({ type: MessageType.Heartbeat, to: id, commit: Math.min(pr.match, r.log.committed), context });
  }
  serveConfirmedReads(r);
}

export function serveConfirmedReads(r: Raft): void {
  for (const round of r.readOnly.takeConfirmed(r.trk.config.voters)) r.serveReads(round.index, round.requests);
}

export function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    // Fast back-off: jump to the follower's hint, refined by our own log when it sent a term.
    let next = m.rejectHint ?? 0;
    if ((m.rejectHintTerm ?? 0) > 0) next = r.log.findConflictByTerm(next, m.rejectHintTerm!).index;
    if (pr.maybeDecrTo(m.index ?? 0, next)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const index = m.index ?? 0;
  const updated = pr.maybeUpdate(index);
  if (!updated && !(pr.match === index && pr.state === ProgressState.Probe)) return;
  switch (pr.state) {
    case ProgressState.Probe:
      pr.becomeReplicate();
      break;
    case ProgressState.Snapshot:
      if (pr.match + 1 >= r.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      break;
    case ProgressState.Replicate:
      pr.inflights.freeLE(index);
      break;
  }
  if (r.maybeCommit()) r.pendingBcast = true;
  // Keep the pipeline full.
  while (sendAppend(r, m.from, false)) {
    // sends until the window is full or the log is exhausted
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

export function sendTimeoutNow(r: Raft, to: string): void {
  r.send({ type: MessageType.TimeoutNow, to });
  // The target will campaign with votes that ignore leases: ours is no longer trustworthy.
  r.leaseVoided = true;
}

// ---------------------------------------------------------------- follower side

export function handleAppendEntries(r: Raft, m: Message): void {
  const prevIndex = m.index ?? 0;
  if (prevIndex < r.log.committed) {
    // Everything up to our commit index is known to match: tell the leader where we are.
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
    return;
  }
  const res = r.log.maybeAppend(prevIndex, m.logTerm ?? 0, m.commit ?? 0, m.entries ?? []);
  if (res !== undefined) {
    if (res.truncatedFrom > 0) dropAcksFrom(r, res.truncatedFrom);
    r.send({ type: MessageType.AppResp, to: m.from, index: res.lastNew });
    return;
  }
  // Consistency check failed. Hint the leader at the largest index that could still match:
  // at most our last index, and no entry whose term is above the leader's prevTerm.
  const hint = r.log.findConflictByTerm(Math.min(prevIndex, r.log.lastIndex()), m.logTerm ?? 0);
  r.send({
    type: MessageType.AppResp,
    to: m.from,
    index: prevIndex,
    reject: true,
    rejectHint: hint.index,
    rejectHintTerm: hint.term,
  });
}

/**
 * Entries from `index` on were replaced before the acknowledgements queued for them left: those
 * acknowledgements must not leave, or a leader would count a copy that will never be durable.
 * (Acknowledgements already handed to the runtime cover only entries written before them.)
 */
function dropAcksFrom(r: Raft, index: number): void {
  r.msgs = r.msgs.filter((m) => !(m.type === MessageType.AppResp && !m.reject && (m.index ?? 0) >= index));
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit ?? 0);
  r.send({ type: MessageType.HeartbeatResp, to: m.from, ...(m.context !== undefined ? { context: m.context } : {}) });
}

export function handleSnapshot(r: Raft, m: Message): void {
  const snap = m.snapshot;
  invariant(snap !== undefined, 'Snap message without a snapshot');
  if (restore(r, snap)) {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.lastIndex() });
  } else {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
  }
}

/** Installs a snapshot from the leader. Returns false if it was not needed. */
function restore(r: Raft, s: Snapshot): boolean {
  if (s.meta.index <= r.log.committed) return false;
  if (r.role !== Role.Follower) return false;
  // We may be absent from the snapshot's membership: it is the membership as of its index, and
  // we may have been added after it. The entries that follow add us; until then we are not
  // promotable, so installing it is harmless, and refusing it would leave us stuck.
  if (r.log.matchTerm(s.meta.index, s.meta.term)) {
    // We already hold the snapshot's last entry, so everything before it matches: fast-forward.
    r.log.commitTo(s.meta.index);
    return false;
  }
  r.log.restore(s);
  // The log was replaced wholesale: queued acknowledgements of earlier entries are void.
  dropAcksFrom(r, 0);
  applyConfState(r, s.meta.confState);
  return true;
}
