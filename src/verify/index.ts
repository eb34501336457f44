// Linearizability checking for raftkv: record what clients saw, check it against a sequential
// model, and render failures.
//
//   import { HistoryRecorder, kvModel, checkLinearizable, writeHtmlTimeline } from './verify/index.js';
//
//   const rec = new HistoryRecorder<KvInput, KvOutput>({ clock: () => sim.now() });
//   const alice = rec.client('alice');                  // renames itself after an unknown outcome
//   const h = alice.invoke({ type: 'put', key: 'x', value: '1' });
//   try { await kv.put('x', '1'); h.ok({}); }
//   catch (e) { isNotLeader(e) ? h.fail() : h.unknown(); }
//
//   const result = checkLinearizable(rec.history(), kvModel(), { timeoutMs: 10_000 });
//   if (result.result === 'illegal') {
//     console.log(result.failure!.text);               // partition, longest prefix, stuck ops, timeline
//     writeHtmlTimeline('out/linearizability.html', result.failure!);
//   }
//
// history.ts  operations, outcomes, makeHistory, HistoryRecorder / RecordingClient
// models.ts   the Model interface; registerModel, kvModel (partitioned per key)
// checker.ts  checkLinearizable (JIT linearization search with memoization)
// report.ts   text and HTML timelines of a failure
export * from './history.js';
export * from './models.js';
export * from './checker.js';
export * from './report.js';
