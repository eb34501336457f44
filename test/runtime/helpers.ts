// Helpers for in-process runtime tests: a loopback hub standing in for the network, and a
// small replicated register/counter state machine.

import type { Message, NodeId } from '../../src/raft/core/types.js';
import type { CommittedEntry, SnapshotImage, StateMachine } from '../../src/raft/runtime/state-machine.js';
import type { RaftTransportPort } from '../../src/raft/runtime/transport-port.js';

export class LoopbackHub {
  private readonly handlers = new Map<string, (m: Message) => void>();
  readonly down = new Set<NodeId>();

  port(self: NodeId): RaftTransportPort {
    return {
      send: (groupId, msg) => {
        if (this.down.has(self) || this.down.has(msg.to)) return true; // lost on the wire
        const h = this.handlers.get(`${groupId}/${msg.to}`);
        if (!h) return false;
        setImmediate(() => h(msg));
        return true;
      },
      register: (groupId, onMessage) => {
        this.handlers.set(`${groupId}/${self}`, onMessage);
      },
      unregister: (groupId) => {
        this.handlers.delete(`${groupId}/${self}`);
      },
      addressOf: (peer) => `mem://${peer}`,
    };
  }
}

/** Applies "add:<n>" commands to a counter; the result is the new value. */
export class CounterSM implements StateMachine<number> {
  value = 0;
  applied = 0;
  readonly log: string[] = [];

  apply(entries: readonly CommittedEntry[]): number[] {
    return entries.map((e) => {
      const cmd = new TextDecoder().decode(e.data);
      this.log.push(cmd);
      const m = /^add:(-?\d+)(?:\|.*)?$/.exec(cmd);
      if (m) this.value += Number(m[1]);
      this.applied = e.index;
      return this.value;
    });
  }

  saveSnapshot(): SnapshotImage {
    return { index: this.applied, data: new TextEncoder().encode(JSON.stringify({ value: this.value, log: this.log })) };
  }

  loadSnapshot(image: SnapshotImage): void {
    const s = JSON.parse(new TextDecoder().decode(image.data)) as { value: number; log: string[] };
    this.value = s.value;
    this.log.length = 0;
    this.log.push(...s.log);
    this.applied = image.index;
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
