// The window of AppendEntries sent to one peer and not yet acknowledged, bounded by count and
// by bytes. The leader stops pipelining to a peer whose window is full.

export class Inflights {
  // invariant: indexes are strictly increasing (entries are sent in log order)
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  // invariant: bytes === sum(sizes[head..])
  private bytes = 0;

  constructor(
    private readonly maxCount: number,
    /** 0 = no byte limit. */
    private readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.indexes.length - this.head;
  }

  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  /** Records a message whose last entry is `index` and whose entries total `size` bytes. */
  add(index: number, size: number): void {
    if (this.count > 0) {
      const last = this.indexes[this.indexes.length - 1]!;
      if (index <= last) throw new Error(`inflights: index ${index} not after ${last}`);
    }
    this.indexes.push(index);
    this.sizes.push(size);
    this.bytes += size;
  }

  /** Frees every message whose last index is <= `to`. */
  freeLE(to: number): void {
    while (this.head < this.indexes.length && this.indexes[this.head]! <= to) {
      this.bytes -= this.sizes[this.head]!;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.indexes.length) {
      this.indexes.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Frees the oldest message (it was probably lost): lets one more append out to probe. */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.indexes[this.head]!);
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.bytes = 0;
  }
}
