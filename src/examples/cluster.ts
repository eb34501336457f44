// Runs the example register state machine as a local 3-node cluster (three node processes on
// 127.0.0.1:7101-7103, data under ./data/example). Ctrl-C stops all three.
//
//   npm run example:cluster      then, in another terminal:
//   node dist/src/examples/register-client.js set greeting hello

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../server/node-main.js', import.meta.url));
const ids = ['n1', 'n2', 'n3'];
const port = (i: number): number => 7101 + i;
const peers = ids.map((id, i) => `${id}=127.0.0.1:${port(i)}`).join(',');
const children: ChildProcess[] = ids.map((id, i) => {
  const p = spawn(process.execPath, [main, '--id', id, '--listen', `127.0.0.1:${port(i)}`, '--peers', peers, '--data', `./data/example/${id}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  p.stdout!.on('data', (d: Buffer) => {
    if (d.toString().includes('READY')) console.log(`${id} serving on 127.0.0.1:${port(i)} (pid ${p.pid})`);
  });
  p.on('exit', (code) => console.log(`${id} exited (${code})`));
  return p;
});
console.log('Try: node dist/src/examples/register-client.js set greeting hello');
console.log('     node dist/src/examples/register-client.js get greeting');
console.log('     node dist/src/examples/register-client.js status');
const stop = (): void => {
  for (const c of children) c.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
