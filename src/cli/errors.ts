// The CLI's exit codes and how every failure becomes one of them with ONE line on stderr.
// Scripts branch on the exit code, so the mapping from the client's stable error codes is
// the contract here; the message is for people.

import { CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';

export const Exit = {
  OK: 0,
  /** Not found / condition failed: get of a missing key, cas that did not swap, lock not acquired. */
  FALSE: 1,
  /** Bad flag, argument or configuration. */
  USAGE: 2,
  /** Unreachable, deadline exceeded, no leader: the cluster did not answer in time. */
  UNAVAILABLE: 3,
  /** The server refused the request (INVALID_PARAMETER, TOO_SMALL_TO_SPLIT, ...). */
  REFUSED: 4,
  /** A bug or a storage failure. */
  INTERNAL: 5,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  not found / condition failed (get of a missing key, cas that did not swap, lock not acquired)
  2  usage error (bad flag, argument or configuration field)
  3  unavailable (endpoint unreachable, deadline exceeded, no leader)
  4  refused by the server (INVALID_PARAMETER, TOO_SMALL_TO_SPLIT, unknown region, ...)
  5  internal error`;

/** A failure the CLI itself decided on, with its exit code and a one-line message. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string): CliError => new CliError(Exit.USAGE, message);

/**
 * Codes of KvClientError / RaftClientError / TransportError meaning "the cluster did not answer
 * (in time)": retrying later may work. UNKNOWN_OUTCOME is a deadline too (the write may apply).
 */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  'DEADLINE_EXCEEDED',
  'UNKNOWN_OUTCOME',
  'NO_LEADER',
  'NOT_LEADER',
  'LEADER_CHANGED',
  'TRANSFERRING_LEADERSHIP',
  'TIMEOUT',
  'UNREACHABLE',
  'CLOSED',
  'REMOTE_ERROR',
  'QUEUE_FULL',
  'SERVER_BUSY',
  'BUSY',
  'RESOURCE_UNAVAILABLE',
  'SHUTTING_DOWN',
  'HANDSHAKE_FAILED',
]);

/** Codes of bugs, corrupt frames and storage failures. */
const INTERNAL_CODES: ReadonlySet<string> = new Set(['INTERNAL', 'STORAGE_ERROR', 'STATE_MACHINE_ERROR', 'BAD_FRAME', 'BAD_VERSION', 'INVALID_MESSAGE', 'FRAME_TOO_LARGE']);

/** The exit code for a thrown value. */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof CommanderError) return err.exitCode === 0 ? Exit.OK : Exit.USAGE;
  if (err instanceof ConfigError) return Exit.USAGE;
  const code = codeOf(err);
  if (code === undefined) return Exit.INTERNAL;
  if (UNAVAILABLE_CODES.has(code)) return Exit.UNAVAILABLE;
  if (INTERNAL_CODES.has(code)) return Exit.INTERNAL;
  // Every other coded error came from a store's (or the client's) checks on the request.
  return Exit.REFUSED;
}

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c !== '' ? c : undefined;
}

/** Collapses a message to one line (config errors list one problem a line). */
export const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, '; ').trim();

/** The line printed for a thrown value (without the 'raftkv: ' prefix). */
export function messageOf(err: unknown): string {
  if (err instanceof CliError || err instanceof ConfigError) return oneLine(err.message);
  const code = codeOf(err);
  const msg = oneLine(err instanceof Error ? err.message : String(err));
  if (code === undefined) return `internal error: ${msg}`;
  // Messages of the clients often carry the code already ("n3: TOO_SMALL_TO_SPLIT: ...").
  const text = msg.includes(code) ? msg : `${code}: ${msg}`;
  if (exitCodeOf(err) === Exit.UNAVAILABLE) return `${text} (is the cluster running? check --endpoints or RAFTKV_ENDPOINTS)`;
  return text;
}
