// `npm start` (src/cli/dev.ts): three store processes come up, serve the demo writes, show the
// leaders, and stop cleanly when asked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createServer } from 'node:net';

/** A port p with p..p+2 and p+1000..p+1002 free, below the ephemeral range (see freePort in proc-cluster). */
async function threeFreePorts(): Promise<number> {
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 10000);
    const all = [p, p + 1, p + 2, p + 1000, p + 1001, p + 1002]; // store ports and their HTTP ports
    let ok = true;
    for (const q of all) ok = ok && (await free(q));
    if (ok) return p;
  }
}

const DEV = fileURLToPath(new URL('../../src/cli/dev.js', import.meta.url));

test('dev cluster: starts 3 stores, serves, shows leaders, stops by itself', { timeout: 60_000 }, async () => {
  const port = await threeFreePorts();
  const p = spawn(process.execPath, [DEV, '--ephemeral', '--port', String(port), '--exit-after-ms', '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  assert.equal(code, 0, out);
  for (let i = 0; i < 3; i++) assert.match(out, new RegExp(`listening on 127\\.0\\.0\\.1:${port + i}`));
  assert.match(out, /get hello -> world/);
  assert.match(out, /leaders: region 1: n\d \(term \d+/);
  assert.match(out, new RegExp(`dashboard and metrics on http://127\\.0\\.0\\.1:${port + 1000}/`));
  assert.match(out, /createClient\(\{ endpoints: \["127\.0\.0\.1:\d+"/);
});
