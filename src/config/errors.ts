// The one error type of configuration loading: everything wrong with a file, listed at once.

export interface ConfigProblem {
  /** The field, as written in the file: "raft.electionTimeoutMs", "peers[1].id"; '' for the file as a whole. */
  readonly path: string;
  /** What is wrong, e.g. "must be at least 3 x tickMs (300), got 200". */
  readonly message: string;
}

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';

  /**
   * @param source the file name (or '<inline>') that the message lines start with
   * @param problems at least one; the message has one line per problem
   */
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
    options?: ErrorOptions,
  ) {
    super(problems.map((p) => (p.path ? `${source}: ${p.path}: ${p.message}` : `${source}: ${p.message}`)).join('\n'), options);
    this.name = 'ConfigError';
  }
}
