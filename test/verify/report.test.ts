import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkLinearizable } from '../../src/verify/checker.js';
import type { KvInput, KvOutput } from '../../src/verify/models.js';
import { kvModel } from '../../src/verify/models.js';
import { failureWindow, historyToHtml, renderTimelineText, writeHtmlTimeline } from '../../src/verify/report.js';
import { Builder, int, kvExecutor, randomHistory, rng, withOutput } from './helpers.js';

function staleRead() {
  return new Builder<KvInput, KvOutput>()
    .ok('alice', { type: 'put', key: 'x', value: '1' }, {}, 0, 5)
    .ok('bob', { type: 'put', key: 'x', value: '2' }, {}, 6, 10)
    .unknown('dave', { type: 'put', key: 'x', value: '3' }, 7, 9)
    .ok('carol', { type: 'get', key: 'x' }, { value: '1' }, 11, 12)
    .history();
}

test('text report: explanation and a timeline of client, call..return, op and output', () => {
  const r = checkLinearizable(staleRead(), kvModel());
  assert.equal(r.result, 'illegal');
  const text = r.failure!.text;
  assert.match(text, /NOT LINEARIZABLE: partition "x" of model kv/);
  assert.match(text, /Longest linearizable prefix found: 2 operations/);
  assert.match(text, /\* get\(x\) -> "1"  #3 carol \[11 \.\. 12\]: not possible in state \{x: "2"\}/);
  const rows = text.split('\n').filter((l) => /^#\d/.test(l));
  assert.equal(rows.length, 4);
  assert.match(rows.find((l) => l.startsWith('#2'))!, /^#2\s+dave\s+7\s+\? \(gave up 9\)\s+\[~+>\s+put\(x, "3"\) -> \?$/);
  assert.match(rows.find((l) => l.startsWith('#3'))!, /^#3\s+carol\s+11\s+12\s+\*\s+\[?.*get\(x\) -> "1"$/);
});

test('HTML timeline: self-contained, lanes per client, failing ops highlighted', () => {
  const r = checkLinearizable(staleRead(), kvModel());
  const dir = mkdtempSync(join(tmpdir(), 'raftkv-verify-'));
  try {
    const path = writeHtmlTimeline(join(dir, 'sub', 'failure.html'), r.failure!);
    const html = readFileSync(path, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /<script|<link|<img|src=|url\(http|@import/i, 'no external assets');
    for (const client of ['alice', 'bob', 'carol', 'dave']) assert.ok(html.includes(`>${client}</text>`), client);
    assert.ok(html.includes('#e5484d'), 'the stuck operation is drawn in the failure color');
    assert.match(html, /get\(x\) -&gt; &quot;1&quot;\ncannot be linearized next/);
    assert.ok(html.includes('url(#hatch)'), 'unknown outcomes are hatched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const whole = historyToHtml(staleRead(), kvModel());
  assert.match(whole, /<svg/);
});

test('large failures are windowed around the failing operations', () => {
  const h = randomHistory(3, { ops: 800, values: 4, unknownRate: 0.02, maxSlack: 30, spacing: 10 }, kvExecutor(1));
  const gets = h.flatMap((op, i) => (op.outcome === 'ok' && op.input.type === 'get' && i > 400 ? [i] : []));
  const victim = gets[int(rng(5), gets.length)]!;
  const r = checkLinearizable(withOutput(h, victim, { value: 'bogus' }), kvModel());
  assert.equal(r.result, 'illegal');
  const f = r.failure!;
  const win = failureWindow(f);
  assert.ok(win.length <= 40 && win.length >= f.stuck.length);
  for (const s of f.stuck) assert.ok(win.includes(s.op));
  assert.ok(f.text.split('\n').length < 80, 'the text stays short');
  assert.equal(failureWindow(f, { full: true }).length, f.ops.length);
  assert.match(renderTimelineText(win, f.labels), /^op\s+client\s+call\s+return/);
});
