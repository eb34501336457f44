// The newest entries of the log, kept in memory and bounded in bytes (entry sizes as the core
// counts them: data + 24). It always holds a contiguous run [firstIndex, lastIndex] ending at
// the log's last index (possibly empty); older entries are read from the segment files.

import { invariant } from '../raft/core/errors.js';
import { entrySize } from '../raft/core/storage.js';
import type { Entry } from '../raft/core/types.js';

export class TailCache {
  private items: Entry[] = [];
  /** Position in `items` of the entry at `first` (dropped items before it are garbage). */
  private head = 0;
  private first: number;
  private total = 0;

  constructor(firstIndex: number) {
    this.first = firstIndex;
  }

  /** Index of the oldest cached entry (lastIndex + 1 when empty). */
  get firstIndex(): number {
    return this.first;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.total;
  }

  get(i: number): Entry {
    const e = this.items[this.head + i - this.first];
    invariant(e !== undefined && e.index === i, () => `entry ${i} is not cached (cache holds from ${this.first})`);
    return e;
  }

  push(e: Entry): void {
    invariant(e.index === this.first + this.length, () => `cache push of ${e.index}, expected ${this.first + this.length}`);
    this.items.push(e);
    this.total += entrySize(e);
  }

  /** Drops entries at and after index i; if i is before the cache, it empties and restarts at i. */
  truncateFrom(i: number): void {
    if (i <= this.first) {
      this.reset(i);
      return;
    }
    const keep = this.head + (i - this.first);
    for (let k = keep; k < this.items.length; k++) this.total -= entrySize(this.items[k]!);
    if (keep < this.items.length) this.items.length = keep;
  }

  /** Drops entries before index i (compaction). */
  dropBefore(i: number): void {
    if (i > this.first + this.length) {
      this.reset(i);
      return;
    }
    while (this.first < i) this.dropHead();
    this.tidy();
  }

  /** Drops the oldest entries while over `maxBytes`, but never an entry at or after `pinFrom`. */
  evict(maxBytes: number, pinFrom: number): void {
    while (this.total > maxBytes && this.length > 0 && this.first < pinFrom) this.dropHead();
    this.tidy();
  }

  reset(firstIndex: number): void {
    this.items = [];
    this.head = 0;
    this.first = firstIndex;
    this.total = 0;
  }

  private dropHead(): void {
    const e = this.items[this.head]!;
    this.items[this.head] = undefined as unknown as Entry;
    this.head++;
    this.first++;
    this.total -= entrySize(e);
  }

  /** Reclaims the dropped prefix once it is most of the array (amortised O(1) per entry). */
  private tidy(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
