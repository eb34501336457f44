// Pending-request permits (Ratis' write-path backpressure): a leader holds at most maxCount
// requests and maxBytes of request data between acceptance and reply. When none is left the
// client is told at once (RESOURCE_UNAVAILABLE) instead of queueing without bound.

export class Permits {
  private count = 0;
  private bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  get inUse(): { count: number; bytes: number } {
    return { count: this.count, bytes: this.bytes };
  }

  tryAcquire(bytes: number): boolean {
    if (this.count + 1 > this.maxCount) return false;
    // A single request larger than the byte budget still gets through when nothing else is held.
    if (this.count > 0 && this.bytes + bytes > this.maxBytes) return false;
    this.count++;
    this.bytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.count--;
    this.bytes -= bytes;
    if (this.count < 0 || this.bytes < 0) throw new Error('permits released more than acquired');
  }
}
