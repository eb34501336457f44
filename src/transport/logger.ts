// The injected logger of the transport, and a throttle so a misbehaving peer (a flood of
// messages for an unknown group, a cluster-name mismatch retried every backoff) cannot flood
// the log.

export type LogFields = Record<string, unknown>;

export interface Logger {
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

export const noopLogger: Logger = {
  warn() {},
  info() {},
  debug() {},
};

/** warn to stderr, info and debug dropped: the default when no logger is injected. */
export const warnOnlyConsoleLogger: Logger = {
  warn(msg, fields) {
    console.warn(`[transport] ${msg}`, fields ?? '');
  },
  info() {},
  debug() {},
};

/** Lets one line per key through every `intervalMs`; counts what it held back. */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 5000,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 1024,
  ) {}

  /** The number of lines suppressed since the last one let through, or -1 to suppress this one. */
  admit(key: string): number {
    const t = this.now();
    const s = this.last.get(key);
    if (s && t - s.at < this.intervalMs) {
      s.suppressed++;
      return -1;
    }
    if (!s && this.last.size >= this.maxKeys) this.last.clear();
    const suppressed = s ? s.suppressed : 0;
    this.last.set(key, { at: t, suppressed: 0 });
    return suppressed;
  }
}
