// Membership on a node: proposing changes (leader), applying committed changes and snapshot
// configurations (every node), and leaving a joint configuration automatically.

import { ConfChanger, type ChangeResult, restoreConfig } from './confchange.js';
import { decodeConfChange, encodeConfChange } from './confchange-codec.js';
import { RaftError } from './errors.js';
import { checkCanPropose } from './leader.js';
import { sendAppend, sendTimeoutNow } from './replication.js';
import type { Raft } from './raft.js';
import { type ConfChange, type ConfState, type Entry, EntryType, type LogId, NONE, Role } from './types.js';

/** Validates and appends a membership change on the leader. */
export function proposeConfChange(r: Raft, cc: ConfChange): LogId {
  checkCanPropose(r, undefined);
  if (r.pendingConfIndex > r.log.applying) {
    throw new RaftError('CONF_CHANGE_PENDING', `a membership change (index ${r.pendingConfIndex}) is still being applied`, r.id);
  }
  const leave = ConfChanger.isLeaveJoint(cc);
  if (r.trk.isJoint() && !leave) {
    throw new RaftError('INVALID_CONF_CHANGE', 'the configuration is joint: leave it before another change', r.id);
  }
  if (!r.trk.isJoint() && leave) {
    throw new RaftError('INVALID_CONF_CHANGE', 'an empty change leaves a joint configuration, but the configuration is not joint', r.id);
  }
  // Dry run: throws INVALID_CONF_CHANGE if it does not apply to the current configuration.
  computeChange(r, cc);
  for (const c of cc.changes) {
    const pr = r.trk.progress.get(c.node);
    if (c.op === 'addVoter' && pr?.isLearner) {
      const lag = r.log.committed - pr.match;
      if (lag > r.opts.promoteMaxLagEntries || (pr.match === 0 && r.log.committed > 0)) {
        throw new RaftError('LEARNER_NOT_CAUGHT_UP', `learner ${c.node} is ${lag} entries behind (limit ${r.opts.promoteMaxLagEntries})`, r.id);
      }
    }
  }
  const id = r.appendEntries([{ type: EntryType.ConfChange, data: encodeConfChange(cc) }]);
  r.pendingConfIndex = id.index;
  return id;
}

function computeChange(r: Raft, cc: ConfChange): ChangeResult {
  const ch = new ConfChanger(r.trk, r.log.lastIndex());
  if (ConfChanger.isLeaveJoint(cc)) return ch.leaveJoint();
  const plan = ConfChanger.plan(cc);
  return plan.joint ? ch.enterJoint(plan.autoLeave, cc.changes) : ch.simple(cc.changes);
}

/**
 * Applies a committed ConfChange entry. Every replica applies the same entries in the same
 * order, so a change that turns out invalid is skipped identically everywhere.
 */
export function applyConfChangeEntry(r: Raft, e: Entry): void {
  let result: ChangeResult;
  try {
    result = computeChange(r, decodeConfChange(e.data));
  } catch (err) {
    if (err instanceof RaftError && err.code === 'INVALID_CONF_CHANGE') return;
    throw err;
  }
  switchToConfig(r, result);
}

export function applyConfState(r: Raft, cs: ConfState): void {
  switchToConfig(r, restoreConfig(r.trk, cs, r.log.lastIndex()));
}

function switchToConfig(r: Raft, next: ChangeResult): void {
  r.trk.config = next.config;
  r.trk.progress = next.progress;
  r.isLearner = next.progress.get(r.id)?.isLearner ?? false;
  r.confChanged = true;
  if (r.lead === NONE) r.targetPriority = r.maxPriority();
  if (r.role !== Role.Leader) return;
  if (!r.trk.isVoter(r.id)) {
    // Removed (or demoted): we led until the change committed. Stepping down at once could
    // strand the others: until they learn of the commit they may still need our vote, which we
    // would refuse while our log is longer. Hand leadership to a caught-up voter instead.
    handOffLeadership(r);
    return;
  }
  if (r.leadTransferee !== NONE && !r.trk.isVoter(r.leadTransferee)) r.leadTransferee = NONE;
  // A smaller quorum may commit more; new peers need entries.
  r.maybeCommit();
  r.pendingBcast = true;
}

/**
 * A leader that is no longer a voter transfers leadership to the voter holding the most of
 * the log (TimeoutNow once it holds everything) and accepts no proposals meanwhile; the new
 * leader's higher term makes it step down. Retried if the transfer times out.
 */
export function handOffLeadership(r: Raft): void {
  let best: string = NONE;
  let bestMatch = -1;
  for (const id of [...r.trk.voterIds()].sort()) {
    if (id === r.id) continue;
    const m = r.trk.progress.get(id)?.match ?? -1;
    if (m > bestMatch) {
      best = id;
      bestMatch = m;
    }
  }
  if (best === NONE) {
    r.becomeFollower(r.term, NONE);
    return;
  }
  r.electionElapsed = 0;
  r.leadTransferee = best;
  if (bestMatch === r.log.lastIndex()) sendTimeoutNow(r, best);
  else sendAppend(r, best);
}

/** The leader leaves a joint configuration once it has been applied (autoLeave). */
export function maybeAutoLeave(r: Raft): void {
  if (r.role !== Role.Leader || !r.trk.isJoint() || !r.trk.config.autoLeave) return;
  if (r.pendingConfIndex > r.log.applying) return;
  try {
    const id = r.appendEntries([{ type: EntryType.ConfChange, data: encodeConfChange({ changes: [] }) }]);
    r.pendingConfIndex = id.index;
  } catch (err) {
    // BUSY: the uncommitted tail is full; the next Ready tries again.
    if (!(err instanceof RaftError && err.code === 'BUSY')) throw err;
  }
}
