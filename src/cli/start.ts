// `raftkv start --config node.yaml`: one store node; `raftkv pd-server --id pd1 ...`: one
// placement driver node in a process of its own (src/pd/pd-main.ts). The configuration is checked here first
// so a bad field is one `raftkv: file: field: problem` line (exit 2) before anything starts;
// the store itself then runs as src/kv/store/store-main.js in a child process, with this
// terminal's stdio, and this process forwards SIGINT/SIGTERM/SIGHUP to it (graceful shutdown
// is the store's job) and exits with its exit code.
//
// Why a child and not in-process: store-main.ts reads its flags from process.argv and installs
// its own signal handlers at import time; it exports no start function yet.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { EXIT_CODES_HELP } from './errors.js';

const STORE_MAIN = fileURLToPath(new URL('../kv/store/store-main.js', import.meta.url));
const PD_MAIN = fileURLToPath(new URL('../pd/pd-main.js', import.meta.url));

interface StartOptions {
  config: string;
  logLevel?: string;
  logFormat?: string;
  callbacks?: string;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run one store node from a YAML configuration file (every field: src/config/examples/node1.yaml)')
    .requiredOption('--config <file>', 'the node configuration (YAML)')
    .addOption(new Option('--log-level <level>', 'overrides log.level').choices(['debug', 'info', 'warn', 'error']))
    .addOption(new Option('--log-format <format>', 'overrides log.format').choices(['json', 'pretty']))
    .option('--callbacks <module>', 'an ES module whose exported functions become nodeExecute callbacks (the same on every store)')
    .addHelpText(
      'after',
      `
Examples:
  $ raftkv start --config node1.yaml
  $ raftkv start --config node1.yaml --log-format pretty

Prints 'READY {json}' once serving. Ctrl-C (SIGINT) or SIGTERM stops the node gracefully.
Exit codes: the store's (0 stopped, 2 bad configuration); otherwise as below.
${EXIT_CODES_HELP}
`,
    )
    .action(async (o: StartOptions) => {
      // Throws ConfigError (exit 2, one line) naming the field. Imported here: the YAML and
      // schema libraries are slow to load for every other command.
      const { loadStoreConfig } = await import('../config/load.js');
      await loadStoreConfig(o.config);
      const args = [STORE_MAIN, '--config', o.config];
      if (o.logLevel) args.push('--log-level', o.logLevel);
      if (o.logFormat) args.push('--log-format', o.logFormat);
      if (o.callbacks) args.push('--callbacks', o.callbacks);
      process.exitCode = await runChild(args);
    });

  program
    .command('pd-server')
    .description('run one placement driver node in a process of its own, with no regions (stores report to it with pd.endpoints / --pd-endpoints)')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .addHelpText(
      'after',
      `
Flags (checked by the PD process; a bad one exits 2 with one line):
  --id <id>                    this PD node (e.g. pd1)                       required
  --listen <host:port>         where it listens                              required
  --peers <id=host:port,...>   every PD node, this one included              default: itself
  --data <dir>                 its Raft log and snapshots                    required
  --schedule-interval-ms <ms>  how often the schedulers run                  default 1000
  --pd-warmup-ms <ms>          heartbeats collected after a leader change    default 3000
  --operator-timeout-ms <ms>   an unfinished operator is dropped             default 60000
  --split-max-keys <n>         split a region above this many keys           default 100000
  --split-max-bytes <n>        split a region above this size                default 64 MiB
  --store-down-after-ms <ms>   a silent store's replicas are rebuilt         default 1800000
  --replicas <n>               replicas per region                           default 3
  --tick-ms <ms>               Raft tick of the PD group                     default 100
  --election-timeout-ms <ms>   PD group's election timeout                   default 1000
  --cluster <name>             transport handshake cluster name              default raftkv
  --log-level, --log-format    as for stores

Examples:
  $ raftkv pd-server --id pd1 --listen 127.0.0.1:2379 --data ./data/pd1 \\
      --peers pd1=127.0.0.1:2379,pd2=127.0.0.1:2380,pd3=127.0.0.1:2381
  $ raftkv admin pd --endpoints 127.0.0.1:2379

Prints 'READY {json}' once serving. Ctrl-C (SIGINT) or SIGTERM stops it.
`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      if (cmd.args.includes('--help') || cmd.args.includes('-h')) return cmd.help();
      process.exitCode = await runChild([PD_MAIN, ...cmd.args]);
    });
}

/** Runs a node script in a child with this terminal's stdio, forwarding signals; resolves with its exit code. */
async function runChild(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals): void => {
    // Ctrl-C reaches the child from the terminal too; a second SIGINT is harmless to it.
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => forward(sig));
  return await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, signal) => resolve(c ?? 128 + signalNumber(signal)));
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
