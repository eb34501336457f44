// Message handling of the leader, and the leader-only requests: proposals, reads, transfers.

import { RaftError } from './errors.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import type { ReadRequest } from './read-only.js';
import { handleAppendResponse, sendAppend, sendTimeoutNow, serveConfirmedReads } from './replication.js';
import { EntryType, type LogId, type Message, MessageType, NONE, ProgressState, Role } from './types.js';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.CheckQuorum:
      if (!r.trk.quorumActive(r.id)) {
        // We cannot reach a quorum: step down rather than keep accepting writes that cannot commit.
        r.becomeFollower(r.term, NONE);
        return;
      }
      for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
      return;
    case MessageType.ReadIndex:
      leaderRead(r, { id: m.context ?? '', from: m.from }, m.lease === true);
      return;
    case MessageType.TransferLeader:
      transferLeadership(r, m.transferee ?? NONE);
      return;
    default:
      break;
  }
  const pr = r.trk.progress.get(m.from);
  if (!pr) return;
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.HeartbeatResp:
      pr.recentActive = true;
      pr.probeSent = false;
      // A full window to a peer that answers heartbeats means appends were lost on the way:
      // free one slot so the next append goes out and its rejection resets the pipeline.
      if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
      if (m.context !== undefined) {
        r.readOnly.recvAck(m.from, Number(m.context));
        serveConfirmedReads(r);
      }
      if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);
      return;
    case MessageType.SnapStatus:
      snapshotStatus(pr, m.reject !== true);
      return;
    case MessageType.Unreachable:
      // Pipelining to an unreachable peer only fills its window with lost messages.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      return;
    default:
      return;
  }
}

function snapshotStatus(pr: Progress, ok: boolean): void {
  if (pr.state !== ProgressState.Snapshot) return;
  if (!ok) pr.pendingSnapshot = 0;
  pr.becomeProbe();
  // Wait for the follower's answer (or the next heartbeat) before sending again.
  pr.probeSent = true;
}

/** Appends a proposal on the leader. Returns where it landed; commit is reported later. */
export function propose(r: Raft, data: Uint8Array, expectedTerm: number | undefined): LogId {
  checkCanPropose(r, expectedTerm);
  return r.appendEntries([{ type: EntryType.Normal, data }]);
}

export function checkCanPropose(r: Raft, expectedTerm: number | undefined): void {
  if (r.role !== Role.Leader) {
    throw new RaftError('NOT_LEADER', `${r.id} is not the leader${r.lead !== NONE ? `; the leader is ${r.lead}` : '; no leader is known'}`, r.lead);
  }
  if (expectedTerm !== undefined && expectedTerm !== r.term) {
    throw new RaftError('TERM_MISMATCH', `expected term ${expectedTerm} but the leader's term is ${r.term}`, r.id);
  }
  if (r.leadTransferee !== NONE) {
    throw new RaftError('TRANSFERRING_LEADERSHIP', `leadership is being transferred to ${r.leadTransferee}`, r.id);
  }
  if (!r.trk.isVoter(r.id)) {
    throw new RaftError('PROPOSAL_DROPPED', `${r.id} is no longer a voter and is handing over leadership`, r.id);
  }
}

/** A read request on the leader: from the lease at once, or batched into the next round. */
function leaderRead(r: Raft, req: ReadRequest, lease: boolean): void {
  if (lease && leaseValid(r) && r.committedInTerm()) {
    r.serveReads(r.log.committed, [req]);
    return;
  }
  // Waits for the next flush (one heartbeat round per batch), and for the first commit of the term.
  r.readOnly.add(req);
}

/**
 * The lease holds while a quorum answered a heartbeat sent less than leaseTicks ago, where
 * leaseTicks = electionTicks - 2 leaves a tick of margin for each side's tick phase.
 */
function leaseValid(r: Raft): boolean {
  if (!r.opts.checkQuorum || r.leaseVoided || r.leadTransferee !== NONE) return false;
  const leaseTicks = Math.max(1, r.opts.electionTicks - 2);
  const acked = r.readOnly.quorumAckTick(r.trk.config.voters, r.id, r.tickCount);
  return r.tickCount - acked < leaseTicks;
}

function transferLeadership(r: Raft, target: string): void {
  const pr = r.trk.progress.get(target);
  if (!pr || pr.isLearner || target === r.id) return;
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === target) return; // already under way
    r.leadTransferee = NONE;
  }
  // The transfer is abandoned if not done within an election timeout.
  r.electionElapsed = 0;
  r.leadTransferee = target;
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, target);
  else sendAppend(r, target);
}
