// `npm start`: a local 3-node raftkv KV cluster in child processes (lmdb engine, fsync on), with
// data under ./data/dev (or a temporary directory with --ephemeral). The cluster itself is
// dev-cluster.ts, shared with `raftkv dev`; this file keeps the npm script's flags.
//
//   node dist/src/cli/dev.js [--ephemeral] [--port 7201] [--data ./data/dev] [--exit-after-ms N] [--quiet]

import { parseArgs } from 'node:util';
import { runDev } from './dev-cluster.js';

let values;
try {
  ({ values } = parseArgs({
    options: {
      ephemeral: { type: 'boolean', default: false },
      port: { type: 'string', default: '7201' },
      data: { type: 'string', default: './data/dev' },
      'exit-after-ms': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  console.error(`raftkv dev: ${(e as Error).message}`);
  process.exit(2);
}
if (values.help) {
  console.log(`usage: npm start [-- --ephemeral] [-- --port 7201] [-- --data ./data/dev]
  Starts 3 KV store processes on 127.0.0.1:<port>..<port+2> and shows the cluster.
  (the same as: raftkv dev --help)`);
  process.exit(0);
}
const basePort = Number(values.port);
if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65533) {
  console.error(`raftkv dev: --port must be a port number, got '${values.port}'`);
  process.exit(2);
}
const exitAfter = values['exit-after-ms'];
await runDev({
  ephemeral: values.ephemeral,
  port: basePort,
  data: values.data,
  quiet: values.quiet,
  ...(exitAfter !== undefined ? { exitAfterMs: Number(exitAfter) } : {}),
  cliName: 'node dist/src/cli/main.js',
});
