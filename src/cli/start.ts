// `raftkv start --config node.yaml`: one store node. The configuration is checked here first
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
      const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'inherit' });
      const forward = (sig: NodeJS.Signals): void => {
        // Ctrl-C reaches the child from the terminal too; a second SIGINT is harmless to the store.
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      };
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => forward(sig));
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (c, signal) => resolve(c ?? 128 + signalNumber(signal)));
      });
      process.exitCode = code;
    });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
