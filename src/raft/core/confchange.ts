// Membership changes, as pure functions from (configuration, progress, change) to a new
// configuration and progress map. Any change can go through a joint configuration C_old,new
// (both majorities must agree while it is in force); a change of at most one voter may be
// applied directly. The caller swaps the result in.

import { RaftError } from './errors.js';
import { Progress } from './progress.js';
import { ProgressTracker, type TrackerConfig } from './tracker.js';
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from './types.js';

export interface ChangeResult {
  readonly config: TrackerConfig;
  readonly progress: Map<NodeId, Progress>;
}

interface Mutable {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
  progress: Map<NodeId, Progress>;
}

function bad(msg: string): never {
  throw new RaftError('INVALID_CONF_CHANGE', msg);
}

export class ConfChanger {
  constructor(
    private readonly tracker: ProgressTracker,
    /** The leader's (or replica's) last log index: new peers start probing after it. */
    private readonly lastIndex: number,
  ) {}

  /** Which transition a change takes: 'simple' for at most one voter change, else joint. */
  static plan(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
    const t = cc.transition ?? 'auto';
    if (t === 'joint') return { joint: true, autoLeave: true };
    if (t === 'jointExplicit') return { joint: true, autoLeave: false };
    return { joint: cc.changes.length > 1, autoLeave: true };
  }

  /** True for the empty change that leaves a joint configuration. */
  static isLeaveJoint(cc: ConfChange): boolean {
    return cc.changes.length === 0;
  }

  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const m = this.copy();
    if (m.outgoing.size > 0) bad('configuration is already joint');
    if (m.incoming.size === 0) bad('cannot make a zero-voter configuration joint');
    for (const id of m.incoming) m.outgoing.add(id);
    this.apply(m, changes);
    m.autoLeave = autoLeave;
    return this.finish(m);
  }

  leaveJoint(): ChangeResult {
    const m = this.copy();
    if (m.outgoing.size === 0) bad('configuration is not joint');
    for (const id of m.learnersNext) {
      m.learners.add(id);
      m.progress.get(id)!.isLearner = true;
    }
    m.learnersNext.clear();
    for (const id of m.outgoing) {
      if (!m.incoming.has(id) && !m.learners.has(id)) m.progress.delete(id);
    }
    m.outgoing.clear();
    m.autoLeave = false;
    return this.finish(m);
  }

  /** Applies changes that alter at most one voter, without a joint phase. */
  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const m = this.copy();
    if (m.outgoing.size > 0) bad('cannot apply a simple change in a joint configuration');
    const before = new Set(m.incoming);
    this.apply(m, changes);
    let diff = 0;
    for (const id of before) if (!m.incoming.has(id)) diff++;
    for (const id of m.incoming) if (!before.has(id)) diff++;
    if (diff > 1) bad('more than one voter changed without entering a joint configuration');
    return this.finish(m);
  }

  private apply(m: Mutable, changes: readonly ConfChangeSingle[]): void {
    for (const c of changes) {
      if (c.node === '') bad('a change names no node');
      switch (c.op) {
        case 'addVoter':
          this.makeVoter(m, c.node);
          break;
        case 'addLearner':
          this.makeLearner(m, c.node);
          break;
        case 'removeNode':
          this.remove(m, c.node);
          break;
        default:
          bad(`unknown change op ${String((c as ConfChangeSingle).op)}`);
      }
    }
    if (m.incoming.size === 0) bad('the change removes all voters');
  }

  private makeVoter(m: Mutable, id: NodeId): void {
    const pr = m.progress.get(id);
    if (!pr) {
      this.initProgress(m, id, false);
      return;
    }
    pr.isLearner = false;
    m.learners.delete(id);
    m.learnersNext.delete(id);
    m.incoming.add(id);
  }

  private makeLearner(m: Mutable, id: NodeId): void {
    const pr = m.progress.get(id);
    if (!pr) {
      this.initProgress(m, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Demote: leave the incoming voters; if still an outgoing voter it becomes a learner only
    // when the joint configuration is left.
    this.remove(m, id);
    m.progress.set(id, pr);
    if (m.outgoing.has(id)) {
      m.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      m.learners.add(id);
    }
  }

  private remove(m: Mutable, id: NodeId): void {
    if (!m.progress.has(id)) return;
    m.incoming.delete(id);
    m.learners.delete(id);
    m.learnersNext.delete(id);
    if (!m.outgoing.has(id)) m.progress.delete(id);
  }

  private initProgress(m: Mutable, id: NodeId, learner: boolean): void {
    if (learner) m.learners.add(id);
    else m.incoming.add(id);
    const pr = new Progress(Math.max(this.lastIndex, 1), this.tracker.maxInflight, this.tracker.maxInflightBytes, learner);
    // A new peer is given the benefit of the doubt for one check-quorum round.
    pr.recentActive = true;
    m.progress.set(id, pr);
  }

  private copy(): Mutable {
    const c = this.tracker.config;
    const progress = new Map<NodeId, Progress>();
    for (const [id, pr] of this.tracker.progress) progress.set(id, cloneProgress(pr));
    return {
      incoming: new Set(c.voters.incoming),
      outgoing: new Set(c.voters.outgoing),
      learners: new Set(c.learners),
      learnersNext: new Set(c.learnersNext),
      autoLeave: c.autoLeave,
      progress,
    };
  }

  private finish(m: Mutable): ChangeResult {
    const config: TrackerConfig = {
      voters: { incoming: m.incoming, outgoing: m.outgoing },
      learners: m.learners,
      learnersNext: m.learnersNext,
      autoLeave: m.autoLeave,
    };
    ProgressTracker.assertValid(config, m.progress);
    return { config, progress: m.progress };
  }
}

function cloneProgress(pr: Progress): Progress {
  const c = new Progress(pr.next, 0, 0, pr.isLearner);
  Object.assign(c, { ...pr, inflights: pr.inflights });
  return c;
}

/** Rebuilds a configuration from a ConfState (restart or snapshot). */
export function restoreConfig(tracker: ProgressTracker, cs: ConfState, lastIndex: number): ChangeResult {
  const empty = new ProgressTracker(tracker.maxInflight, tracker.maxInflightBytes);
  let cur: ChangeResult = { config: empty.config, progress: empty.progress };
  const step = (fn: (ch: ConfChanger) => ChangeResult): void => {
    empty.config = cur.config;
    empty.progress = cur.progress;
    cur = fn(new ConfChanger(empty, lastIndex));
  };
  if (cs.votersOutgoing.length === 0) {
    // Not joint: add voters one at a time, then learners.
    for (const id of cs.voters) step((ch) => ch.simple([{ op: 'addVoter', node: id }]));
    for (const id of cs.learners) step((ch) => ch.simple([{ op: 'addLearner', node: id }]));
    if (cs.learnersNext.length > 0 || cs.autoLeave) bad('learnersNext/autoLeave outside a joint ConfState');
    return cur;
  }
  // Joint: build the outgoing config as if it were incoming, then enter the joint config that
  // replaces it with the incoming voters and learners.
  for (const id of cs.votersOutgoing) step((ch) => ch.simple([{ op: 'addVoter', node: id }]));
  const changes: ConfChangeSingle[] = [];
  for (const id of cs.votersOutgoing) changes.push({ op: 'removeNode', node: id });
  for (const id of cs.voters) changes.push({ op: 'addVoter', node: id });
  for (const id of cs.learners) changes.push({ op: 'addLearner', node: id });
  for (const id of cs.learnersNext) changes.push({ op: 'addLearner', node: id });
  step((ch) => ch.enterJoint(cs.autoLeave, changes));
  return cur;
}
