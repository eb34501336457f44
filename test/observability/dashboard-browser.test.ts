// The dashboard in a real headless browser (Debian's chromium through playwright-core) against
// three real store processes: the page shows who leads region 1; after that store is killed
// (kill -9) the page shows the new leader and the store down, without a reload.
//
// Not skipped when chromium is missing: it fails saying how to install it (.ci/run does).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type KvClient, createClient } from '../../src/kv/client/index.js';
import type { ClusterSnapshot } from '../../src/observability/cluster-view.js';
import { KV_STORE_MAIN, ProcCluster, freePort } from '../process/proc-cluster.js';
import { getJson, waitFor } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('dashboard: shows the leader of region 1, then the new leader after kill -9', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  const ids = ['n1', 'n2', 'n3'];
  const httpPort = new Map<string, number>();
  for (const id of ids) httpPort.set(id, await freePort());
  const cluster = await ProcCluster.create(ids, ['--engine', 'memory', '--split-keys', 'm', '--tick-ms', '50', '--election-timeout-ms', '1000'], { main: KV_STORE_MAIN });
  let browser: Browser | undefined;
  let page: Page | undefined;
  let kv: KvClient | undefined;
  let loading = true;
  let load: Promise<void> | undefined;
  try {
    await Promise.all(ids.map((id) => cluster.start(id, ['--metrics-listen', `127.0.0.1:${httpPort.get(id)}`])));
    kv = createClient({ endpoints: ids.map((id) => `127.0.0.1:${cluster.nodes.get(id)!.port}`), timeoutMs: 20_000 });
    const client = kv;
    // A little steady load, so the throughput chart has something to draw.
    load = (async () => {
      for (let i = 0; loading; i++) {
        await client.put(`${i % 2 === 0 ? 'a' : 'z'}-${i % 50}`, String(i)).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const http = (id: string): string => `http://127.0.0.1:${httpPort.get(id)}`;
    const leader = await waitFor('a leader of region 1', async () => {
      const v = (await getJson<ClusterSnapshot>(`${http('n1')}/api/cluster`)).body;
      return v.regions.find((r) => r.id === '1')?.leader || undefined;
    }, 20_000);
    const viewer = ids.find((id) => id !== leader)!;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${http(viewer)}/`, { timeout: 15_000 });
    assert.equal(await page.textContent('#store-id'), viewer);

    const row1 = '#regions-table tr[data-region="1"]';
    await page.waitForSelector(`${row1}[data-leader="${leader}"]`, { timeout: 15_000 });
    assert.equal(await page.getAttribute(`${row1} td.replica.leader`, 'data-store'), leader, 'the leader cell is highlighted');
    await page.waitForSelector('#regions-table tr[data-region="2"]', { timeout: 5000 });
    await page.waitForFunction(() => document.querySelectorAll('#stores-table tr[data-up="true"]').length === 3, undefined, { timeout: 10_000 });
    await page.waitForFunction(() => /req\/s/.test(document.getElementById('card-tput')?.textContent ?? ''), undefined, { timeout: 10_000 });

    await cluster.kill(leader);

    const handle = await page.waitForFunction(
      (old) => {
        const l = document.querySelector('#regions-table tr[data-region="1"]')?.getAttribute('data-leader');
        return l && l !== old ? l : false;
      },
      leader,
      { timeout: 20_000, polling: 100 },
    );
    const next = (await handle.jsonValue()) as string;
    assert.ok(ids.includes(next) && next !== leader, `new leader ${next}`);
    await page.waitForSelector(`#stores-table tr[data-store="${leader}"][data-up="false"]`, { timeout: 10_000 });
    await page.waitForSelector(`${row1} td[data-store="${leader}"][data-role="down"]`, { timeout: 5000 });
    await page.waitForFunction(
      (who) => [...document.querySelectorAll('#event-log li[data-event-type="leader"]')].some((li) => (li.textContent ?? '').includes('region 1: ' + who + ' leads')),
      next,
      { timeout: 5000 },
    );
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  } catch (e) {
    // What the page and the stores showed when it failed: a failure here must be explainable.
    const shown = await page?.evaluate(() => [document.getElementById('conn-state')?.textContent, document.getElementById('updated')?.textContent, document.getElementById('regions-table')?.outerHTML].join('\n')).catch(() => 'page unavailable');
    const logs = [...cluster.nodes.values()].map((n) => `${n.id}: ${n.stderr.split('\n').slice(-5).join('\n')}`).join('\n');
    throw new Error(`${(e as Error).message}\n--- page ---\n${shown ?? 'no page'}\n--- stores ---\n${logs}`);
  } finally {
    loading = false;
    await browser?.close().catch(() => undefined);
    await load;
    await kv?.close();
    await cluster.stop();
  }
});
