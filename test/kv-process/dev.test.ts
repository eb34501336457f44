// `npm start` (src/cli/dev.ts): three store processes come up, serve the demo writes, show the
// leaders, and stop cleanly when asked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { threeFreePorts } from '../cli/helpers.js';

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
