// Small durable-file helpers shared by the log, meta and snapshot stores.

import { closeSync, fsyncSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type FileHandle, open } from 'node:fs/promises';
import { ioError } from './errors.js';

/** fsync a directory, making the creates, renames and unlinks in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    throw ioError(`fsync of directory ${dir}`, err);
  } finally {
    await fh?.close().catch(() => {});
  }
}

/**
 * Replaces a small file atomically and durably: written to `<path>.tmp`, fsynced, renamed over
 * `path`, and the directory fsynced. A crash leaves the old file or the new one, never a mix.
 */
export function writeFileDurableSync(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

// Fewer buffers per writev than any platform's IOV_MAX (1024 on Linux).
const MAX_IOV = 512;

/** Writes every byte of `bufs` at `position`, looping over short writes. */
export async function writeFully(fh: FileHandle, bufs: readonly Uint8Array[], position: number): Promise<void> {
  let pos = position;
  for (let i = 0; i < bufs.length; i += MAX_IOV) {
    let batch = bufs.slice(i, i + MAX_IOV);
    let want = 0;
    for (const b of batch) want += b.byteLength;
    while (want > 0) {
      const { bytesWritten } = await fh.writev(batch, pos);
      if (bytesWritten <= 0) throw new Error(`writev wrote ${bytesWritten} bytes at ${pos}`);
      pos += bytesWritten;
      want -= bytesWritten;
      if (want > 0) batch = dropPrefix(batch, bytesWritten);
    }
  }
}

function dropPrefix(bufs: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = n;
  for (const b of bufs) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/** Reads exactly `length` bytes at `position` (synchronously), or throws IO_ERROR at end of file. */
export function readFullySync(fd: number, path: string, position: number, length: number): Buffer {
  // Not from the shared pool: decoded entries keep views into this buffer.
  const buf = Buffer.allocUnsafeSlow(length);
  let got = 0;
  try {
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, position + got);
      if (n === 0) throw new Error(`unexpected end of file at byte ${position + got}`);
      got += n;
    }
  } catch (err) {
    throw ioError(`read of ${path}`, err);
  }
  return buf;
}

/** Index as a fixed-width decimal, so file names sort in index order. */
export function pad20(n: number): string {
  return String(n).padStart(20, '0');
}
