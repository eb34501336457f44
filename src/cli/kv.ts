// `raftkv kv ...`: one KV operation per invocation through the smart client (routing, leader
// discovery and retries within --timeout-ms). Outcomes that are answers rather than failures
// ("not found", "did not swap", "lock held") exit 1 with stdout empty in text mode, so
// `v=$(raftkv kv get k) || ...` works; with --json the document is printed either way.

import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import type { KvClient, LockResult, ReadConsistency } from '../kv/client/index.js';
import { type ConnectionOptions, examples, intParser, jsonValue, printJson, printLines, showBytes, withConnection, withKv } from './common.js';
import { Exit, usage } from './errors.js';

interface ReadOptions extends ConnectionOptions {
  consistency: ReadConsistency;
  follower: boolean;
}

const consistencyOption = (): Option =>
  new Option('--consistency <level>', 'linearizable: ReadIndex via the leader; lease: leader lease, no round trip; stale: any replica as it is').choices(['linearizable', 'lease', 'stale']).default('linearizable');

/** A "no" answer: explained on stderr in text mode, the JSON document on stdout otherwise. */
function answerNo(o: ConnectionOptions, doc: unknown, text: string): void {
  if (o.json) printJson(doc);
  else process.stderr.write(`raftkv: ${text}\n`);
  process.exitCode = Exit.FALSE;
}

export function registerKv(program: Command): void {
  const kv = program
    .command('kv')
    .description('read and write keys: put, get, delete, scan, cas, lock, unlock, seq')
    .addHelpText('after', examples(['raftkv kv put config/mode on', 'raftkv kv get config/mode', 'raftkv kv scan config/ --prefix --limit 10', 'RAFTKV_ENDPOINTS=10.0.0.1:7201 raftkv kv get k --json']));

  withConnection(kv.command('put').description('set a key to a value').argument('<key>').argument('<value>'))
    .addHelpText('after', examples(['raftkv kv put greeting hello', 'raftkv kv put greeting hello --json']))
    .action((key: string, value: string, o: ConnectionOptions) =>
      withKv(o, async (c) => {
        await c.put(key, value);
        if (o.json) printJson({ ok: true, key });
        else printLines(['OK']);
      }),
    );

  withConnection(kv.command('get').description('print the value of a key (exit 1 if it does not exist)').argument('<key>'))
    .addOption(consistencyOption())
    .option('--follower', 'serve the read on any replica rather than the leader', false)
    .addHelpText('after', examples(['raftkv kv get greeting', 'raftkv kv get greeting --consistency stale --follower', 'raftkv kv get greeting --json']))
    .action((key: string, o: ReadOptions) =>
      withKv(o, async (c) => {
        const v = await c.get(key, { consistency: o.consistency, follower: o.follower });
        if (v === null) return answerNo(o, { key, found: false, value: null }, `key '${key}' not found`);
        if (o.json) printJson({ key, found: true, ...jsonValue(v) });
        else process.stdout.write(Buffer.concat([v, Buffer.from('\n')]));
      }),
    );

  withConnection(kv.command('delete').alias('del').description('delete a key (no error if it does not exist)').argument('<key>'))
    .addHelpText('after', examples(['raftkv kv delete greeting']))
    .action((key: string, o: ConnectionOptions) =>
      withKv(o, async (c) => {
        await c.delete(key);
        if (o.json) printJson({ ok: true, key });
        else printLines(['OK']);
      }),
    );

  registerScan(kv);
  registerCas(kv);
  registerLocks(kv);

  withConnection(kv.command('seq').description('take values from a sequence: prints the first (a range with --step > 1)').argument('<key>'))
    .addOption(new Option('--step <n>', 'how many values to take (0: print the next value, take none)').argParser(intParser('--step', 0)).default(1))
    .addHelpText('after', examples(['raftkv kv seq order-id', 'raftkv kv seq order-id --step 100 --json', 'raftkv kv seq order-id --step 0']))
    .action((key: string, o: ConnectionOptions & { step: number }) =>
      withKv(o, async (c) => {
        const r = await c.getSequence(key, o.step);
        if (o.json) printJson({ key, step: o.step, start: r.start, end: r.end });
        else printLines([o.step === 0 ? String(r.end) : o.step === 1 ? String(r.start) : `${r.start}..${r.end - 1}`]);
      }),
    );
}

function registerScan(kv: Command): void {
  withConnection(kv.command('scan').description('list pairs in [start, end) in key order, across regions').argument('[start]', 'first key (default: the first key)').argument('[end]', 'end key, exclusive (default: to the last key)'))
    .addOption(new Option('--limit <n>', 'at most this many pairs (0: no limit)').argParser(intParser('--limit', 0)).default(0))
    .option('--keys-only', 'print only the keys', false)
    .option('--reverse', 'descending key order (from end down to start)', false)
    .option('--prefix', 'treat <start> as a prefix: every key that starts with it', false)
    .addOption(consistencyOption())
    .addHelpText('after', examples(['raftkv kv scan', 'raftkv kv scan a m --limit 10', 'raftkv kv scan user/ --prefix --keys-only', 'raftkv kv scan --reverse --limit 1 --json'], '\nText output: one pair per line, key<TAB>value (--json for values with newlines or binary).\n'))
    .action((start: string | undefined, end: string | undefined, o: ConnectionOptions & { limit: number; keysOnly: boolean; reverse: boolean; prefix: boolean; consistency: ReadConsistency }) =>
      withKv(o, async (c) => {
        let s: string | null = start ?? null;
        let e: string | Buffer | null = end ?? null;
        if (o.prefix) {
          if (!start || end !== undefined) throw usage('--prefix takes exactly one argument, the prefix');
          e = prefixEnd(start);
        }
        if (s === '') s = null;
        const opts = { limit: o.limit, returnValue: !o.keysOnly, consistency: o.consistency };
        const pairs = o.reverse ? await c.reverseScan(s, e, opts) : await c.scan(s, e, opts);
        if (o.json) {
          printJson({ count: pairs.length, pairs: pairs.map((p) => ({ key: showBytes(p.key), ...(o.keysOnly ? {} : jsonValue(p.value)) })) });
          return;
        }
        printLines(pairs.map((p) => (o.keysOnly || p.value === null ? showBytes(p.key) : `${showBytes(p.key)}\t${p.value.toString()}`)));
      }),
    );
}

/** The smallest key above every key starting with `prefix` (null: none, scan to the end). */
function prefixEnd(prefix: string): Buffer | null {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return null;
}

function registerCas(kv: Command): void {
  withConnection(
    kv
      .command('cas')
      .description('compare-and-swap: set <key> to <new> only if its value is <expected> (exit 1 if not)')
      .argument('<key>')
      .argument('[expected]', 'the value the key must have now (omit with --absent)')
      .argument('[new]', 'the value to set'),
  )
    .option('--absent', 'the key must not exist (then give only <key> <new>)', false)
    .addHelpText('after', examples(['raftkv kv cas config/mode on off', 'raftkv kv cas config/mode --absent on', 'raftkv kv cas config/mode on off --json']))
    .action((key: string, a: string | undefined, b: string | undefined, o: ConnectionOptions & { absent: boolean }) => {
      let expected: string | null;
      let next: string;
      if (o.absent) {
        if (a === undefined || b !== undefined) throw usage('with --absent give <key> <new> (no expected value)');
        [expected, next] = [null, a];
      } else {
        if (a === undefined || b === undefined) throw usage("cas needs <key> <expected> <new> (or <key> --absent <new>); see 'raftkv kv cas --help'");
        [expected, next] = [a, b];
      }
      return withKv(o, async (c) => {
        const swapped = await c.compareAndPut(key, expected, next);
        const doc = { key, swapped, expected, value: next };
        if (!swapped) return answerNo(o, doc, `condition failed: '${key}' ${expected === null ? 'exists' : `is not '${expected}'`}; nothing changed`);
        if (o.json) printJson(doc);
        else printLines(['OK']);
      });
    });
}

function registerLocks(kv: Command): void {
  const lockDoc = (key: string, r: LockResult): Record<string, unknown> => ({ key, acquired: r.success, owner: r.owner, fencingToken: r.fencingToken, count: r.count, remainingMs: r.remainingMs });

  withConnection(kv.command('lock').description('take (or re-enter) the lease lock on a key (exit 1 if someone else holds it)').argument('<key>'))
    .addOption(new Option('--lease-ms <ms>', 'the lock expires this long after it is taken unless renewed').argParser(intParser('--lease-ms', 1)).default(10_000))
    .addOption(new Option('--owner <id>', 'who takes it; the same owner re-enters, and unlock needs it').default(`cli-${hostname()}-${process.pid}`, 'cli-<host>-<pid>, printed'))
    .option('--keep-lease', 'renew the lease of a lock the owner holds, without re-entering', false)
    .addHelpText('after', examples(['raftkv kv lock jobs/nightly --lease-ms 30000 --owner worker-1', 'raftkv kv lock jobs/nightly --owner worker-1 --keep-lease', 'raftkv kv unlock jobs/nightly --owner worker-1']))
    .action((key: string, o: ConnectionOptions & { leaseMs: number; owner: string; keepLease: boolean }) =>
      withKv(o, async (c: KvClient) => {
        const r = await c.lock(key, { acquirerId: o.owner, leaseMs: o.leaseMs, keepLease: o.keepLease });
        if (!r.success) return answerNo(o, lockDoc(key, r), `lock '${key}' is held by '${r.owner}' for another ${r.remainingMs} ms`);
        if (o.json) printJson(lockDoc(key, r));
        else printLines([`locked '${key}' owner=${r.owner} fencing-token=${r.fencingToken} holds=${r.count} lease-ms=${r.remainingMs}`]);
      }),
    );

  withConnection(kv.command('unlock').description('release one hold of a lock (exit 1 if the owner does not hold it)').argument('<key>'))
    .requiredOption('--owner <id>', 'the owner that took the lock')
    .addHelpText('after', examples(['raftkv kv unlock jobs/nightly --owner worker-1']))
    .action((key: string, o: ConnectionOptions & { owner: string }) =>
      withKv(o, async (c) => {
        const r = await c.unlock(key, o.owner);
        const doc = { key, released: r.success, owner: r.owner, fencingToken: r.fencingToken, count: r.count, remainingMs: r.remainingMs };
        if (!r.success) return answerNo(o, doc, `lock '${key}' is not held by '${o.owner}'${r.owner ? ` (owner: '${r.owner}')` : ''}`);
        if (o.json) printJson(doc);
        else printLines([r.count > 0 ? `released one hold of '${key}'; ${r.count} left` : `unlocked '${key}'`]);
      }),
    );
}
