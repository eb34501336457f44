// Message handling of followers, pre-candidates and candidates.

import { campaign, hasUnappliedConfChanges, hup } from './election.js';
import type { Raft } from './raft.js';
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './replication.js';
import { type Message, MessageType, NONE, Role } from './types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.App:
      heardFromLeader(r, m);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      heardFromLeader(r, m);
      handleSnapshot(r, m);
      return;
    case MessageType.TransferLeader:
      if (r.lead !== NONE) r.send({ type: MessageType.TransferLeader, to: r.lead, transferee: m.transferee ?? NONE });
      return;
    case MessageType.TimeoutNow:
      // The leader asks us to take over: campaign at once, skipping pre-vote, or as soon as
      // the membership changes we have already seen committed are applied.
      if (hasUnappliedConfChanges(r)) r.campaignAfterApply = true;
      else hup(r, true);
      return;
    case MessageType.ReadIndex:
      if (r.lead === NONE) {
        r.readFailures.push({ requestId: m.context ?? '', code: 'NO_LEADER', leader: NONE });
      } else {
        r.send({ type: MessageType.ReadIndex, to: r.lead, context: m.context ?? '', ...(m.lease ? { lease: true } : {}) });
      }
      return;
    case MessageType.ReadIndexResp:
      if (m.reject) r.readFailures.push({ requestId: m.context ?? '', code: 'NOT_LEADER', leader: r.lead });
      else r.readStates.push({ index: m.index ?? 0, requestId: m.context ?? '' });
      return;
    default:
      return;
  }
}

function heardFromLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  r.lead = m.from;
  r.leaderContactTick = r.tickCount;
}

export function stepCandidate(r: Raft, m: Message): void {
  const myResp = r.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.App:
    case MessageType.Heartbeat:
    case MessageType.Snap:
      // A leader of our term exists.
      r.becomeFollower(m.term, m.from);
      stepFollower(r, m);
      return;
    case MessageType.ReadIndex:
      r.readFailures.push({ requestId: m.context ?? '', code: 'NO_LEADER', leader: NONE });
      return;
    case myResp: {
      r.trk.recordVote(m.from, m.reject !== true);
      const { result } = r.trk.tallyVotes();
      if (result === 'won') {
        if (r.role === Role.PreCandidate) campaign(r, 'election');
        else r.becomeLeader();
      } else if (result === 'lost') {
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    default:
      return;
  }
}
