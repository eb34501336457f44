// A small client for the example register cluster (`npm run example:cluster`).
//
//   node dist/src/examples/register-client.js set greeting hello
//   node dist/src/examples/register-client.js add visits 1
//   node dist/src/examples/register-client.js get greeting [--consistency lease|stale|local]
//   node dist/src/examples/register-client.js status
//
// --servers host:port,... (default: the example cluster on 127.0.0.1:7101-7103).

import { parseArgs } from 'node:util';
import { RaftClient, RaftClientError } from '../client/raft-client.js';
import type { Consistency } from '../server/protocol.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    servers: { type: 'string', default: '127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103' },
    consistency: { type: 'string', default: 'linearizable' },
  },
});
// "host:port" or "id=host:port" per server.
const servers = values.servers.split(',').map((s) => {
  const [id, address] = s.includes('=') ? s.split('=') : [undefined, s];
  return id ? { id, address: address! } : address!;
});
const client = new RaftClient({ servers, timeoutMs: 5000 });
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const dec = (b: Uint8Array): unknown => (b.byteLength ? JSON.parse(new TextDecoder().decode(b)) : null);
const [cmd, key, value] = positionals;
try {
  if (cmd === 'set' && key && value !== undefined) {
    const r = await client.apply(enc({ op: 'set', key, value }));
    console.log(`ok (index ${r.index}, previous ${JSON.stringify(dec(r.result))})`);
  } else if (cmd === 'add' && key) {
    const r = await client.apply(enc({ op: 'add', key, delta: Number(value ?? 1) }));
    console.log(`${JSON.stringify(dec(r.result))} (index ${r.index})`);
  } else if (cmd === 'get' && key) {
    const r = await client.query(enc({ op: 'get', key }), { consistency: values.consistency as Consistency });
    console.log(`${JSON.stringify(dec(r.result))} (applied index ${r.appliedIndex})`);
  } else if (cmd === 'status') {
    for (const s of servers) {
      const name = typeof s === 'string' ? s : s.id;
      const st = await client.status(name).catch((e: Error) => ({ error: e.message }));
      console.log(`${name}: ${JSON.stringify(st, ['id', 'role', 'term', 'leader', 'commit', 'appliedIndex', 'error'])}`);
    }
  } else {
    console.error('usage: register-client (set <key> <value> | add <key> [delta] | get <key> | status) [--servers id=host:port,...] [--consistency linearizable|lease|stale|local]');
    process.exitCode = 2;
  }
} catch (e) {
  console.error(e instanceof RaftClientError ? `error ${e.code}: ${e.message}` : String(e));
  process.exitCode = 1;
} finally {
  await client.close();
}
