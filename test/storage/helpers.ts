import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { type Entry, EntryType } from '../../src/raft/core/types.js';
import type { StorageLogger } from '../../src/storage/logger.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under os.tmpdir(), removed when the test file ends. */
export function tmpDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftkv-storage-'));
  dirs.push(d);
  return d;
}

/** An entry whose data is derived from (index, term), so any mix-up shows. */
export function ent(index: number, term: number, size = 16): Entry {
  const data = new Uint8Array(size);
  for (let k = 0; k < size; k++) data[k] = (index * 31 + term * 7 + k) % 251 || 1;
  return { index, term, type: EntryType.Normal, data };
}

/** Entries lo..hi inclusive. */
export function range(lo: number, hi: number, term: number, size = 16): Entry[] {
  return Array.from({ length: hi - lo + 1 }, (_, k) => ent(lo + k, term, size));
}

/** Comparable form of entries (plain arrays, not Buffers vs Uint8Arrays). */
export function plain(ents: readonly Entry[]): Array<[number, number, number, number[]]> {
  return ents.map((e) => [e.index, e.term, e.type, [...e.data]]);
}

export function segFiles(logDir: string): string[] {
  return readdirSync(logDir)
    .filter((n) => n.endsWith('.seg'))
    .sort();
}

export function recordingLogger(): StorageLogger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (m) => warnings.push(m), info: (m) => infos.push(m) };
}
