// Elections: starting a campaign (pre-vote, real, or forced by a leader transfer) and
// answering vote requests.

import type { Raft } from './raft.js';
import { EntryType, type Message, MessageType, NONE, Role } from './types.js';

export type CampaignKind = 'pre' | 'election' | 'transfer';

/** An election timeout fired (or the runtime asked for a campaign). */
export function hup(r: Raft, transfer: boolean): void {
  if (r.role === Role.Leader) return;
  if (!r.promotable()) return;
  // The configuration could change once these apply: campaigning under the old one is unsafe.
  if (hasUnappliedConfChanges(r)) return;
  campaign(r, transfer ? 'transfer' : r.opts.preVote ? 'pre' : 'election');
}

export function hasUnappliedConfChanges(r: Raft): boolean {
  let lo = r.log.applying + 1;
  const hi = r.log.committed + 1;
  while (lo < hi) {
    const ents = r.log.slice(Math.max(lo, r.log.firstIndex()), hi, r.opts.maxApplyBytesPerReady);
    if (ents.length === 0) break;
    if (ents.some((e) => e.type === EntryType.ConfChange)) return true;
    lo = ents[ents.length - 1]!.index + 1;
  }
  return false;
}

export function campaign(r: Raft, kind: CampaignKind): void {
  if (!r.promotable()) return;
  let voteType: MessageType;
  let term: number;
  if (kind === 'pre') {
    r.becomePreCandidate();
    voteType = MessageType.PreVote;
    // Pre-vote asks "would you vote for me at term+1?" without raising our term.
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteType = MessageType.Vote;
    term = r.term;
  }
  const ids = [...r.trk.voterIds()].sort();
  if (ids.includes(r.id)) r.trk.recordVote(r.id, true);
  if (r.trk.tallyVotes().result === 'won') {
    // A single-voter configuration wins at once.
    if (kind === 'pre') campaign(r, 'election');
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.log.lastIndex();
  const lastTerm = r.log.lastTerm();
  for (const id of ids) {
    if (id === r.id) continue;
    r.send({
      type: voteType,
      to: id,
      term,
      index: lastIndex,
      logTerm: lastTerm,
      ...(kind === 'transfer' ? { transfer: true } : {}),
    });
  }
}

/** Answers a Vote or PreVote request (its term is >= ours; lower terms were handled before). */
export function stepVoteRequest(r: Raft, m: Message): void {
  const pre = m.type === MessageType.PreVote;
  const respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
  const canVote =
    r.vote === m.from ||
    // We have not voted in this term and know of no leader.
    (r.vote === NONE && r.lead === NONE) ||
    // A pre-vote for a future term.
    (pre && m.term > r.term);
  if (canVote && r.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
    // A granted pre-vote answers with the term it was asked about, so the pre-candidate counts it.
    r.send({ type: respType, to: m.from, term: m.term });
    if (!pre) {
      // Persisted before the response leaves (the Ready contract): one vote per term, even across crashes.
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ type: respType, to: m.from, term: r.term, reject: true });
  }
}
