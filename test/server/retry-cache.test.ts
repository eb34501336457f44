import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeCall } from '../../src/server/call-envelope.js';
import { CallStateMachine } from '../../src/server/call-state-machine.js';
import { Permits } from '../../src/server/permits.js';
import { RetryCache } from '../../src/server/retry-cache.js';
import type { CommittedEntry, SnapshotImage, StateMachine } from '../../src/raft/runtime/state-machine.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Appends each command to a list; the reply is the list length after it. */
class ListSM implements StateMachine<Uint8Array> {
  items: string[] = [];
  applied = 0;
  apply(entries: readonly CommittedEntry[]): Uint8Array[] {
    return entries.map((e) => {
      this.items.push(dec(e.data));
      this.applied = e.index;
      return enc(String(this.items.length));
    });
  }
  saveSnapshot(): SnapshotImage {
    return { index: this.applied, data: enc(JSON.stringify(this.items)) };
  }
  loadSnapshot(i: SnapshotImage): void {
    this.items = JSON.parse(dec(i.data)) as string[];
    this.applied = i.index;
  }
}

function call(index: number, clientId: string, callId: number, data: string, stampMs = 1000, firstUnreplied = 0): CommittedEntry {
  return { index, term: 1, data: encodeCall({ clientId, callId, firstUnreplied, stampMs, data: enc(data) }) };
}

function applyAll(sm: CallStateMachine, entries: CommittedEntry[]): string[] {
  for (const e of entries) sm.applySerial(e);
  return (sm.apply(entries) as Uint8Array[]).map(dec);
}

test('a retried call is applied once and answered with the original reply (same batch and later batches)', () => {
  const user = new ListSM();
  const sm = new CallStateMachine(user, 60_000);
  // The original and a copy proposed again by a new leader land in one batch.
  assert.deepEqual(applyAll(sm, [call(1, 'c', 1, 'a'), call(2, 'c', 2, 'b'), call(3, 'c', 1, 'a')]), ['1', '2', '1']);
  // ...and in a later batch.
  assert.deepEqual(applyAll(sm, [call(4, 'c', 2, 'b'), call(5, 'd', 1, 'x')]), ['2', '3']);
  assert.deepEqual(user.items, ['a', 'b', 'x']);
});

test('the retry cache travels in snapshots, so a restored replica still deduplicates', async () => {
  const sm = new CallStateMachine(new ListSM(), 60_000);
  applyAll(sm, [call(1, 'c', 1, 'a'), call(2, 'c', 2, 'b')]);
  const image = await sm.saveSnapshot();
  const restored = new CallStateMachine(new ListSM(), 60_000);
  await restored.loadSnapshot(image);
  assert.deepEqual(applyAll(restored, [call(3, 'c', 2, 'b'), call(4, 'c', 3, 'z')]), ['2', '3']);
  assert.deepEqual((restored.user as ListSM).items, ['a', 'b', 'z']);
});

test('retry cache entries expire by the leader-stamped time in the log, identically everywhere', () => {
  const c = new RetryCache(1000);
  c.put('a', 1, { index: 1, stampMs: 100, reply: enc('r1'), failed: false });
  c.put('a', 2, { index: 2, stampMs: 900, reply: enc('r2'), failed: false });
  c.tick(1050); // cut-off 50: nothing expires
  assert.equal(c.size, 2);
  c.tick(1200); // cut-off 200: call 1 (stamped 100) expires
  assert.equal(c.get('a', 1), undefined);
  assert.equal(dec(c.get('a', 2)!.reply), 'r2');
  // Clock never goes back: an older stamp changes nothing.
  c.tick(500);
  assert.equal(c.size, 1);
});

test('a client reporting its lowest unreplied call lets replies below it go early', () => {
  const sm = new CallStateMachine(new ListSM(), 60_000);
  applyAll(sm, [call(1, 'c', 1, 'a'), call(2, 'c', 2, 'b'), call(3, 'c', 3, 'c')]);
  assert.equal(sm.cache.size, 3);
  applyAll(sm, [call(4, 'c', 4, 'd', 1000, 3)]); // the client has replies for 1 and 2
  assert.equal(sm.cache.get('c', 1), undefined);
  assert.equal(sm.cache.get('c', 2), undefined);
  assert.ok(sm.cache.get('c', 3));
  assert.ok(sm.cache.get('c', 4));
});

test('permits bound pending requests by count and by bytes', () => {
  const p = new Permits(2, 100);
  assert.ok(p.tryAcquire(60));
  assert.ok(!p.tryAcquire(60), 'over the byte budget');
  assert.ok(p.tryAcquire(30));
  assert.ok(!p.tryAcquire(1), 'over the count');
  p.release(60);
  p.release(30);
  assert.ok(p.tryAcquire(500), 'a single large request passes when nothing else is held');
  assert.throws(() => {
    p.release(500);
    p.release(1);
  });
});

test('after a restart, calls the state machine already holds are remembered: a retry is a no-op without a reply', () => {
  const replayedByUser: string[] = [];
  const user = new (class extends ListSM {
    replayed(es: readonly CommittedEntry[]): void {
      for (const e of es) replayedByUser.push(dec(e.data));
    }
  })();
  const sm = new CallStateMachine(user, 60_000);
  // Entries 1-3 were applied before the restart (the user's store holds them); 2 repeats call 1.
  sm.replayed([call(1, 'c', 1, 'a'), call(2, 'c', 1, 'a'), call(3, 'c', 2, 'b')]);
  assert.deepEqual(replayedByUser, ['a', 'b'], 'the user sees unwrapped data, duplicates left out');
  assert.equal(sm.cache.get('c', 1)?.failed, true, 'remembered, with no reply kept');
  // A retry of call 2 logged again after the restart is not applied again; a new call is.
  applyAll(sm, [call(4, 'c', 2, 'b'), call(5, 'c', 3, 'z')]);
  assert.deepEqual(user.items, ['z']);
  assert.equal(sm.cache.get('c', 2)?.failed, true, 'the no-op retry does not pass for a kept reply');
  assert.equal(sm.cache.get('c', 3)?.failed, false);
});
