// Small helpers for the observability tests: HTTP GET, Prometheus text lookup, bounded waits.

import { get } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

export function httpGet(url: string, timeoutMs = 5000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const r = await httpGet(url);
  return { status: r.status, body: JSON.parse(r.body) as T };
}

/** Samples of `name` in Prometheus text whose labels include `labels`. */
export function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[l[1]!] = l[2]!;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) out.push(Number(m[3]));
  }
  return out;
}

/** The sum of the samples of `name` with `labels` (throws when there is none). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const s = samples(text, name, labels);
  if (s.length === 0) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return s.reduce((a, b) => a + b, 0);
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
