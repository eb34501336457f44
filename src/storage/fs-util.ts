// Small durable-file helpers.

import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';

/** fsync a directory so that renames and unlinks in it are durable. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a file atomically: temp file, fsync, rename over the target, fsync the directory. */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${dir}/${name}.tmp`;
  await writeFile(tmp, data);
  const fh = await open(tmp, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, `${dir}/${name}`);
  await fsyncDir(dir);
}
