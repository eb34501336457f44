#!/usr/bin/env node
// `raftkv`: the command line of the KV store (like etcdctl). One command group per file:
//   start.ts  one store node from a YAML file      dev-cluster.ts  the local 3-node cluster
//   kv.ts     put/get/delete/scan/cas/lock/...      admin.ts        status, regions, splits, peers
//   bench.ts  throughput and latency of a cluster
//
// Every mistake ends with ONE line on stderr, `raftkv: ...`, and an exit code scripts can rely
// on (errors.ts); never a stack trace (RAFTKV_DEBUG=1 adds it, for bug reports).

import { readFileSync } from 'node:fs';
import { Command, CommanderError, type Help, InvalidArgumentError, Option } from 'commander';
import { registerAdmin } from './admin.js';
import { registerBench } from './bench.js';
import { connectionOptionsLast, intParser } from './common.js';
import { EXIT_CODES_HELP, Exit, exitCodeOf, messageOf } from './errors.js';
import { registerKv } from './kv.js';
import { registerStart } from './start.js';

function die(err: unknown): never {
  process.stderr.write(`raftkv: ${messageOf(err)}\n`);
  if (process.env['RAFTKV_DEBUG']) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(exitCodeOf(err));
}
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
// `raftkv kv scan | head -1`: the reader left; that is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(Exit.OK) : die(e)));

const version = (): string => {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

const program = new Command('raftkv')
  .description('raftkv: a Raft-replicated multi-region key-value store')
  .version(version(), '-V, --version')
  // Commander must not exit or print in its own words: usage errors become one `raftkv:` line
  // and exit 2 (copied to every subcommand created below, so these come first).
  .exitOverride()
  .showSuggestionAfterError(true)
  .configureOutput({ outputError: (str, write) => write(`raftkv: ${usageLine(str)}\n`) })
  .configureHelp({
    visibleOptions(cmd: Command): Option[] {
      return connectionOptionsLast(cmd, this as Help);
    },
  })
  .addHelpText(
    'after',
    `
Examples:
  $ raftkv dev --ephemeral                      a local 3-node cluster on 127.0.0.1:7201-7203
  $ raftkv kv put greeting hello
  $ raftkv kv get greeting
  $ raftkv admin status
  $ raftkv bench --workload put --seconds 5
  $ raftkv start --config node1.yaml            one node of a real cluster
  $ raftkv pd-server --id pd1 --listen 127.0.0.1:2379 --data ./pd1   a placement driver node of its own

Commands that talk to a cluster take --endpoints host:port,... (or RAFTKV_ENDPOINTS),
--timeout-ms and --json; see 'raftkv <command> --help'.
${EXIT_CODES_HELP}
`,
  );

registerStart(program);
program
  .command('dev')
  .description('run a local 3-node cluster in child processes (what `npm start` runs); Ctrl-C stops it')
  .option('--ephemeral', 'keep the data in a temporary directory, removed on exit', false)
  .addOption(new Option('--port <n>', 'the stores listen on 127.0.0.1:<n>, <n+1>, <n+2>').argParser(portParser).default(7201))
  .option('--data <dir>', 'data directory (without --ephemeral)', './data/dev')
  .addOption(new Option('--exit-after-ms <ms>', 'stop by itself after this long').argParser(intParser('--exit-after-ms', 0)).hideHelp())
  .option('--quiet', 'do not print the requests served', false)
  .addHelpText('after', `\nExamples:\n  $ raftkv dev\n  $ raftkv dev --ephemeral --port 7301\n`)
  .action(async (o: { ephemeral: boolean; port: number; data: string; exitAfterMs?: number; quiet: boolean }) => {
    const { runDev } = await import('./dev-cluster.js');
    await runDev({ ephemeral: o.ephemeral, port: o.port, data: o.data, quiet: o.quiet, ...(o.exitAfterMs !== undefined ? { exitAfterMs: o.exitAfterMs } : {}) });
  });
registerKv(program);
registerAdmin(program);
registerBench(program);

function portParser(v: string): number {
  const n = Number(v);
  // Three consecutive ports are used.
  if (!Number.isInteger(n) || n < 1 || n > 65533) throw new InvalidArgumentError('--port must be a port number (1..65533)');
  return n;
}

/** Commander's error text ("error: unknown option '--x'\n(Did you mean --y?)") as one line, with where to look. */
function usageLine(str: string): string {
  const msg = str
    .trim()
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)')
    .replace(/\s*\n\s*/g, '; ')
    .replace(/\.$/, '');
  return `${msg}; see '${['raftkv', ...commandPath()].join(' ')} --help'`;
}

/** The subcommand names at the start of argv ("kv", "scan"), for the hint after a usage error. */
function commandPath(): string[] {
  const path: string[] = [];
  let cmd: Command = program;
  for (const arg of process.argv.slice(2)) {
    if (arg.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    path.push(sub.name());
    cmd = sub;
  }
  return path;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander already printed its message (or the help); only the exit code is left to set.
  if (err instanceof CommanderError) process.exit(exitCodeOf(err));
  die(err);
}
process.exit(process.exitCode ?? Exit.OK);
