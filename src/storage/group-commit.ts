// Group commit: many callers asking for durability share one flush. At most one flush runs at
// a time; callers arriving while it runs share the single next one, which starts when the
// running one ends and covers everything buffered by then.

export class GroupCommit {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  /**
   * @param flush makes everything buffered so far durable
   * @param hasWork whether anything is buffered that no started flush covers
   */
  constructor(
    private readonly flush: () => Promise<void>,
    private readonly hasWork: () => boolean,
  ) {}

  /** Resolves once everything buffered before the call is durable. */
  request(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.hasWork() ? this.start() : Promise.resolve();
    // Nothing new since the running flush started: it covers the caller.
    if (!this.hasWork()) return this.running;
    const after = this.running.then(noop, noop);
    const next = after.then(() => {
      this.next = undefined;
      return this.start();
    });
    this.next = next;
    return next;
  }

  /** Resolves when no flush is running or queued (errors ignored). */
  async idle(): Promise<void> {
    while (this.running || this.next) await (this.next ?? this.running)!.then(noop, noop);
  }

  get busy(): boolean {
    return this.running !== undefined || this.next !== undefined;
  }

  private start(): Promise<void> {
    const p: Promise<void> = this.flush().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }
}

function noop(): void {}
