// Options shared by the commands that talk to a running cluster (--endpoints, --timeout-ms,
// --cluster, --json), argument parsers that turn bad input into usage errors, and output.

import { type Command, Help, InvalidArgumentError, Option } from 'commander';
import { type KvClient, createClient } from '../kv/client/index.js';
import { parseAddress } from '../kv/client/router.js';
import { EXIT_CODES_HELP, usage } from './errors.js';

export const DEFAULT_ENDPOINTS = '127.0.0.1:7201,127.0.0.1:7202,127.0.0.1:7203';

/** The options every cluster-facing command gets, as commander hands them to the action. */
export interface ConnectionOptions {
  endpoints: string;
  timeoutMs: number;
  cluster: string;
  json: boolean;
}

/** The shared flags; help lists them after a command's own (see connectionOptionsLast). */
const CONNECTION_FLAGS: ReadonlySet<string> = new Set(['--endpoints', '--timeout-ms', '--cluster', '--json']);

/**
 * Help lists a command's own options first, then the shared connection options, then --help:
 * what is special about a command is what its help is read for.
 */
export function connectionOptionsLast(cmd: Command, helper: Help): Option[] {
  const all = Help.prototype.visibleOptions.call(helper, cmd);
  const rank = (o: Option): number => (o.long === '--help' ? 2 : o.long !== undefined && CONNECTION_FLAGS.has(o.long) ? 1 : 0);
  return all.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i).map((x) => x.o);
}

/** Adds --endpoints, --timeout-ms, --cluster and --json to a command. */
export function withConnection(cmd: Command): Command {
  return cmd
    .addOption(new Option('--endpoints <list>', 'comma-separated host:port of any stores').env('RAFTKV_ENDPOINTS').default(DEFAULT_ENDPOINTS))
    .addOption(new Option('--timeout-ms <ms>', 'give up after this long, retries included').argParser(intParser('--timeout-ms', 1)).default(10_000))
    .addOption(new Option('--cluster <name>', "cluster name of the transport handshake (the config's 'cluster')").default('raftkv'))
    .option('--json', 'print one JSON document instead of text', false);
}

/** The endpoint list, validated (a typo is a usage error, not a 10 s wait for nothing). */
export function endpointsOf(o: ConnectionOptions): string[] {
  const list = o.endpoints
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw usage('--endpoints is empty (want host:port,...)');
  for (const e of list) if (!parseAddress(e)) throw usage(`bad endpoint '${e}' in --endpoints (want host:port)`);
  return list;
}

/** A commander argument parser for integers >= min (commander reports the failure as a usage error). */
export function intParser(what: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}`);
    return n;
  };
}

/** Comma-separated positive integers ("1,16,64"). */
export function intListParser(what: string): (value: string) => number[] {
  return (value: string) => {
    const parts = value.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.some((p) => p === '') || nums.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new InvalidArgumentError(`${what} must be positive integers separated by commas`);
    return nums;
  };
}

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

export function printLines(lines: readonly string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

/** A text table: left-aligned columns, two spaces apart, trailing blanks trimmed. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

/** Bytes as text: UTF-8 when it is printable, else 0x-hex (keys are bytes; most are text). */
export function showBytes(b: Uint8Array): string {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const s = utf8(buf);
  // eslint-disable-next-line no-control-regex
  return s !== undefined && !/[\u0000-\u001f\u007f]/.test(s) ? s : `0x${buf.toString('hex')}`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 text of `b`, or undefined when it is not valid UTF-8. */
export function utf8(b: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(b);
  } catch {
    return undefined;
  }
}

/** A value for JSON output: text when it is UTF-8, else base64 (so nothing is lost). */
export function jsonValue(b: Buffer | null): { value: string | null } | { valueBase64: string } {
  if (b === null) return { value: null };
  const s = utf8(b);
  return s !== undefined ? { value: s } : { valueBase64: b.toString('base64') };
}

/** Runs `fn` with a KV client for the command's endpoints, and closes it whatever happens. */
export async function withKv<T>(o: ConnectionOptions, fn: (kv: KvClient) => Promise<T>): Promise<T> {
  const kv = createClient({
    endpoints: endpointsOf(o),
    timeoutMs: o.timeoutMs,
    // One attempt may not outlast the whole call (an unreachable cluster must fail within --timeout-ms).
    attemptTimeoutMs: Math.min(3000, o.timeoutMs),
    cluster: o.cluster,
    // One request per invocation: batching would only add its wait.
    batching: false,
  });
  try {
    return await fn(kv);
  } finally {
    await kv.close();
  }
}

/** The help epilogue of a command: examples (and a note), then the exit codes. */
export function examples(lines: readonly string[], note = ''): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n${note}${EXIT_CODES_HELP}\n`;
}
