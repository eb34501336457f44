// Human-readable renderings of a linearizability failure: a text explanation with a timeline
// table, and a self-contained HTML timeline (inline SVG, no external assets).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Failure } from './checker.js';
import type { History, Operation } from './history.js';
import type { Model } from './models.js';

type AnyOp = Operation<unknown, unknown>;
type AnyFailure = Failure<unknown, unknown>;

/** How an operation takes part in the failure. */
export type TimelineMark = { kind: 'stuck' | 'deadline' } | { kind: 'linearized'; position: number } | { kind: 'other' };

export interface ReportOptions {
  /** Show every operation of the partition instead of the window around the failure. */
  readonly full?: boolean;
  /** Maximum rows in the window (default 40; ignored with `full`). */
  readonly maxRows?: number;
}

export function formatTime(t: number): string {
  if (t === Infinity) return '∞';
  if (Number.isInteger(t)) return String(t);
  return String(Number(t.toFixed(3)));
}

function marksOf(f: AnyFailure): Map<number, TimelineMark> {
  const marks = new Map<number, TimelineMark>();
  f.linearized.forEach((s, i) => marks.set(s.op.id, { kind: 'linearized', position: i + 1 }));
  for (const s of f.stuck) marks.set(s.op.id, { kind: 'stuck' });
  for (const op of f.impossible) marks.set(op.id, { kind: 'stuck' });
  if (f.deadline && !marks.has(f.deadline.id)) marks.set(f.deadline.id, { kind: 'deadline' });
  return marks;
}

function endOf(op: AnyOp): number {
  return op.returnTime === Infinity ? (op.gaveUpAt ?? op.callTime) : op.returnTime;
}

/**
 * The operations worth showing: the stuck ones (and the deadline operation), the last few of
 * the linearized prefix, and everything overlapping the span they cover; at most maxRows.
 */
export function failureWindow(f: AnyFailure, options: ReportOptions = {}): AnyOp[] {
  if (options.full) return [...f.ops].sort(byCall);
  const maxRows = options.maxRows ?? 40;
  const focus: AnyOp[] = [...f.stuck.map((s) => s.op), ...f.impossible];
  if (f.deadline) focus.push(f.deadline);
  const tail = f.linearized.slice(-6).map((s) => s.op);
  const core = [...focus, ...tail];
  if (core.length === 0) return [...f.ops].sort(byCall).slice(0, maxRows);
  const { lo, hi } = axisRange(core);
  const priority = new Map<number, number>();
  for (const o of focus) priority.set(o.id, 0);
  for (const o of tail) if (!priority.has(o.id)) priority.set(o.id, 1);
  const anchor = f.deadline?.callTime ?? lo;
  // Overlapping operations; long-pending unknown ones (called well before the span) are left
  // out: the explanation lists them, and they would stretch the time axis.
  const from = lo - (hi - lo);
  const overlapping = f.ops.filter((o) => !priority.has(o.id) && o.callTime <= hi && o.returnTime >= lo && o.callTime >= from);
  overlapping.sort((a, b) => Math.abs(a.callTime - anchor) - Math.abs(b.callTime - anchor));
  const chosen = [...f.ops.filter((o) => priority.get(o.id) === 0), ...f.ops.filter((o) => priority.get(o.id) === 1), ...overlapping];
  return chosen.slice(0, Math.max(maxRows, focus.length)).sort(byCall);
}

function byCall(a: AnyOp, b: AnyOp): number {
  return a.callTime - b.callTime || a.id - b.id;
}

/**
 * The time axis for a set of operations: from the earliest call of an acknowledged operation
 * (unknown ones may have started long before; they are drawn clipped) to the latest end.
 */
function axisRange(ops: readonly AnyOp[]): { lo: number; hi: number } {
  let lo = Infinity;
  let loAny = Infinity;
  let hi = -Infinity;
  for (const o of ops) {
    if (o.outcome === 'ok') lo = Math.min(lo, o.callTime);
    loAny = Math.min(loAny, o.callTime);
    hi = Math.max(hi, endOf(o));
  }
  if (lo === Infinity) lo = loAny;
  return { lo, hi: Math.max(lo, hi) };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** A text table of operations, one row each, with an interval bar on a common time axis. */
export function renderTimelineText(ops: readonly AnyOp[], labels: ReadonlyMap<number, string>, marks: ReadonlyMap<number, TimelineMark> = new Map(), barWidth = 40): string {
  if (ops.length === 0) return '(no operations)\n';
  const { lo, hi } = axisRange(ops);
  const span = hi - lo || 1;
  const col = (t: number): number => Math.min(barWidth - 1, Math.max(0, Math.round(((t - lo) / span) * (barWidth - 1))));
  const rows = ops.map((op) => {
    const m = marks.get(op.id) ?? { kind: 'other' as const };
    const mark = m.kind === 'stuck' ? '*' : m.kind === 'deadline' ? '!' : m.kind === 'linearized' ? String(m.position) : '';
    const ret = op.outcome === 'unknown' ? `?${op.gaveUpAt !== undefined ? ` (gave up ${formatTime(op.gaveUpAt)})` : ''}` : formatTime(op.returnTime);
    const bar = Array.from({ length: barWidth }, () => ' ');
    const a = col(op.callTime);
    const b = op.outcome === 'unknown' ? barWidth - 1 : Math.max(a, col(op.returnTime));
    for (let i = a; i <= b; i++) bar[i] = op.outcome === 'unknown' ? '~' : '=';
    bar[a] = op.callTime < lo ? '<' : '[';
    if (op.outcome === 'ok') bar[b] = b === a ? '|' : ']';
    else bar[b] = '>';
    return [`#${op.id}`, op.clientId, formatTime(op.callTime), ret, mark, bar.join(''), labels.get(op.id) ?? '?'];
  });
  const header = ['op', 'client', 'call', 'return', 'mark', `${formatTime(lo)} .. ${formatTime(hi)}`, 'operation'];
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The readable explanation of a failure (the checker puts this in `failure.text`). */
export function formatFailure(fl: AnyFailure, options: ReportOptions = {}): string {
  const label = (op: AnyOp): string => fl.labels.get(op.id) ?? '?';
  const where = (op: AnyOp): string => `#${op.id} ${op.clientId} [${formatTime(op.callTime)} .. ${op.outcome === 'unknown' ? '?' : formatTime(op.returnTime)}]`;
  const okCount = fl.ops.filter((o) => o.outcome === 'ok').length;
  const lines: string[] = [];
  lines.push(`NOT LINEARIZABLE: partition "${fl.key}" of model ${fl.modelName} (${fl.ops.length} operations, ${okCount} acknowledged).`);
  lines.push(`Longest linearizable prefix found: ${fl.linearized.length} operations; state after it: ${fl.stateAfterPrefix}.`);
  const tail = fl.linearized.slice(-6);
  if (tail.length > 0) {
    lines.push(fl.linearized.length > tail.length ? `  ... (${fl.linearized.length - tail.length} earlier)` : '  (whole prefix)');
    tail.forEach((s, i) => lines.push(`  ${fl.linearized.length - tail.length + i + 1}. ${label(s.op)}  ${where(s.op)}  => ${s.stateAfter}`));
  }
  if (fl.impossible.length > 0) {
    lines.push('These operations can never be linearized (not possible in any state reachable by any order of the operations):');
    for (const op of fl.impossible) lines.push(`  x ${label(op)}  ${where(op)}`);
  }
  if (fl.stuck.length > 0) {
    lines.push('None of these operations can be linearized next:');
    for (const s of fl.stuck) lines.push(`  * ${label(s.op)}  ${where(s.op)}: ${s.reason}`);
  }
  if (fl.pendingUnknown.length > 0) {
    lines.push('Unknown-outcome operations that could still take effect there (none of them helps):');
    const shown = fl.pendingUnknown.slice(-8); // the most recent ones
    if (shown.length < fl.pendingUnknown.length) lines.push(`  ... (${fl.pendingUnknown.length - shown.length} called earlier)`);
    for (const op of shown) lines.push(`  ~ ${label(op)}  ${where(op)}`);
  }
  if (fl.deadline) {
    lines.push(
      `Operation ${where(fl.deadline)} ${label(fl.deadline)} returned at ${formatTime(fl.deadline.returnTime)}: the next linearization point must be one of the operations called before that, and none of them fits.`,
    );
  }
  lines.push('');
  const window = failureWindow(fl, options);
  lines.push(`Timeline (${window.length} of ${fl.ops.length} operations, by call time; mark: n = position in the prefix, * = cannot be linearized next, ! = must come by its return):`);
  lines.push(renderTimelineText(window, fl.labels, marksOf(fl)));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTML

/** About `count` tick positions at round numbers (1, 2 or 5 times a power of ten) in [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface HtmlSpec {
  readonly title: string;
  readonly summary: string;
  readonly ops: readonly AnyOp[];
  readonly labels: ReadonlyMap<number, string>;
  readonly marks: ReadonlyMap<number, TimelineMark>;
}

const COLORS = {
  stuck: '#e5484d',
  deadline: '#f76b15',
  linearized: '#46a758',
  other: '#8b8d98',
};

function renderHtml(spec: HtmlSpec): string {
  const ops = [...spec.ops].sort(byCall);
  const clients: string[] = [];
  for (const op of ops) if (!clients.includes(op.clientId)) clients.push(op.clientId);
  const { lo, hi: hiFinite } = ops.length ? axisRange(ops) : { lo: 0, hi: 1 };
  const hi = hiFinite + (hiFinite - lo || 1) * 0.05; // room for open-ended unknown operations
  const laneH = 34;
  const left = 140;
  const plotW = Math.max(900, Math.min(6000, ops.length * 24));
  const top = 40;
  const width = left + plotW + 30;
  const height = top + clients.length * laneH + 30;
  const x = (t: number): number => left + ((t - lo) / (hi - lo || 1)) * plotW;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11">`);
  parts.push(
    `<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="8" stroke="#d3d4db" stroke-width="3"/></pattern></defs>`,
  );
  // Axis and ticks at round numbers.
  for (const t of niceTicks(lo, hiFinite, 10)) {
    const tx = x(t);
    parts.push(`<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${height - 24}" stroke="#e4e4e9"/>`);
    parts.push(`<text x="${tx}" y="${top - 12}" text-anchor="middle" fill="#60646c">${esc(formatTime(t))}</text>`);
  }
  clients.forEach((c, i) => {
    const y = top + i * laneH;
    if (i % 2 === 0) parts.push(`<rect x="0" y="${y}" width="${width}" height="${laneH}" fill="#f7f7f8"/>`);
    parts.push(`<text x="8" y="${y + laneH / 2 + 4}" fill="#1c2024">${esc(c)}</text>`);
  });
  for (const op of ops) {
    const lane = clients.indexOf(op.clientId);
    const y = top + lane * laneH + 5;
    const h = laneH - 10;
    const x1 = x(Math.max(op.callTime, lo));
    const x2 = op.outcome === 'unknown' ? x(hi) : Math.max(x(op.returnTime), x1 + 3);
    const m = spec.marks.get(op.id) ?? { kind: 'other' as const };
    const color = COLORS[m.kind];
    const label = spec.labels.get(op.id) ?? '?';
    const prefix = m.kind === 'linearized' ? `${m.position}. ` : m.kind === 'stuck' ? '✗ ' : m.kind === 'deadline' ? '! ' : '';
    const tip = `#${op.id} ${op.clientId} [${formatTime(op.callTime)} .. ${op.outcome === 'unknown' ? `? (unknown outcome${op.gaveUpAt !== undefined ? `, gave up at ${formatTime(op.gaveUpAt)}` : ''})` : formatTime(op.returnTime)}]\n${label}${m.kind === 'linearized' ? `\nlinearized as #${m.position} of the prefix` : m.kind === 'stuck' ? '\ncannot be linearized next' : m.kind === 'deadline' ? '\nmust be linearized by its return' : ''}`;
    const fill = op.outcome === 'unknown' ? 'url(#hatch)' : color;
    const strokeW = m.kind === 'stuck' || m.kind === 'deadline' ? 3 : 1;
    parts.push(`<g><title>${esc(tip)}</title>`);
    parts.push(`<rect x="${x1.toFixed(1)}" y="${y}" width="${(x2 - x1).toFixed(1)}" height="${h}" rx="3" fill="${fill}" fill-opacity="${op.outcome === 'unknown' ? 1 : 0.85}" stroke="${color}" stroke-width="${strokeW}"/>`);
    if (op.gaveUpAt !== undefined && op.gaveUpAt >= lo) {
      const gx = x(op.gaveUpAt);
      parts.push(`<line x1="${gx.toFixed(1)}" y1="${y - 2}" x2="${gx.toFixed(1)}" y2="${y + h + 2}" stroke="#60646c" stroke-width="1.5" stroke-dasharray="2,2"/>`);
    }
    const chars = Math.floor((x2 - x1 - 6) / 6.6);
    if (chars >= 3) {
      const text = prefix + label;
      const shown = text.length > chars ? text.slice(0, chars - 1) + '…' : text;
      parts.push(`<text x="${(x1 + 4).toFixed(1)}" y="${y + h / 2 + 4}" fill="${op.outcome === 'unknown' ? '#1c2024' : '#ffffff'}">${esc(shown)}</text>`);
    }
    parts.push('</g>');
  }
  parts.push('</svg>');

  const legend = [
    ['linearized (prefix position)', COLORS.linearized],
    ['cannot be linearized next', COLORS.stuck],
    ['must be linearized by its return', COLORS.deadline],
    ['other', COLORS.other],
  ]
    .map(([name, c]) => `<span class="key"><span class="sw" style="background:${c}"></span>${esc(name!)}</span>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(spec.title)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:20px;color:#1c2024}
pre{background:#f7f7f8;padding:12px;overflow:auto;font-size:12px;line-height:1.4}
.scroll{overflow-x:auto;border:1px solid #e4e4e9;margin:12px 0}
.key{margin-right:18px;font-size:13px}.sw{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px;border-radius:2px}
.hatch{background:repeating-linear-gradient(45deg,#fff 0 3px,#d3d4db 3px 6px);border:1px solid #8b8d98}
</style></head><body>
<h2>${esc(spec.title)}</h2>
<div>${legend}<span class="key"><span class="sw hatch"></span>unknown outcome (open-ended; dashed line: when the client gave up)</span></div>
<div class="scroll">${parts.join('\n')}</div>
<pre>${esc(spec.summary)}</pre>
</body></html>
`;
}

/** A self-contained HTML timeline of a failure (bars per client; failing operations highlighted). */
export function failureToHtml(fl: AnyFailure, options: ReportOptions = {}): string {
  return renderHtml({
    title: `Not linearizable: ${fl.modelName} partition "${fl.key}"`,
    summary: fl.text || formatFailure(fl, options),
    ops: failureWindow(fl, options),
    labels: fl.labels,
    marks: marksOf(fl),
  });
}

/** A self-contained HTML timeline of a whole history (no highlighting). */
export function historyToHtml<S, I, O>(history: History<I, O>, model: Model<S, I, O>, title = `${model.name} history`): string {
  const labels = new Map<number, string>();
  for (const op of history) labels.set(op.id, model.describeOp(op.input, op.output));
  return renderHtml({ title, summary: `${history.length} operations`, ops: history, labels, marks: new Map() });
}

/** Writes the HTML timeline of a failure to `path` (creating directories); returns the path. */
export function writeHtmlTimeline(path: string, f: AnyFailure, options: ReportOptions = {}): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, failureToHtml(f, options));
  return path;
}
