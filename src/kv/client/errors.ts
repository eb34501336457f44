// The client's errors. Every failure reaches the caller as a KvClientError whose `code` is
// stable: the store's code (KvErrorCode in ../protocol.ts) or one of the client's own below.

import type { RegionInfo } from '../protocol.js';

/** Codes raised by the client itself (the store's codes pass through unchanged). */
export const ClientErrorCode = {
  /** compareAndPutAll's keys lie in more than one region (checked before sending). */
  CROSS_REGION: 'CROSS_REGION',
  /** A write may have reached a leader and got no answer before the deadline: it may have applied. */
  UNKNOWN_OUTCOME: 'UNKNOWN_OUTCOME',
  /** No success within timeoutMs, and no write attempt whose fate is unknown. */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** Bad options given to the client (bad keys and values are INVALID_PARAMETER, as on the store). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The client was closed. */
  CLOSED: 'CLOSED',
  /** A reply the client cannot understand (wrong result kind, undecodable bytes). */
  INTERNAL: 'INTERNAL',
} as const;

export class KvClientError extends Error {
  constructor(
    /** The store's code (NOT_LEADER, INVALID_PARAMETER, ...) or the client's (ClientErrorCode). */
    readonly code: string,
    message: string,
    /** The region the failed request was for, when there was one. */
    readonly regionId?: string,
  ) {
    super(message);
    this.name = 'KvClientError';
  }
}

/**
 * Internal: a request was refused because the client's routes are stale (NO_REGION_FOUND,
 * INVALID_REGION_EPOCH before or at apply time). Nothing was applied by the refused attempt; the
 * work is re-routed after a refresh. Never reaches the caller.
 */
export class StaleRoute extends Error {
  constructor(
    /** NO_REGION_FOUND or INVALID_REGION_EPOCH (UNKNOWN_GROUP from a transport). */
    readonly code: string,
    readonly regionId: string,
    /** The region as the store has it now (INVALID_REGION_EPOCH replies carry it). */
    readonly region: RegionInfo | undefined,
    /** Refused at apply time: the refusal is in the store's retry cache, so the call id is spent. */
    readonly applyRefused: boolean,
    /** The write's call id. */
    readonly callId: number | undefined,
    /** An earlier attempt of the same call may have reached a leader and got no answer. */
    readonly unknown: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'StaleRoute';
  }
}

/** The store's codes that fail a call at once (documentation: region-rpc.ts fails on every code it does not retry). */
export const FATAL_CODES: ReadonlySet<string> = new Set([
  'INVALID_PARAMETER',
  'TOO_SMALL_TO_SPLIT',
  'UNKNOWN_CALLBACK',
  'CALLBACK_FAILED',
  'CROSS_REGION',
  'INTERNAL',
  // Applied exactly once before a store restart; its result (a value or a swap outcome) was not kept.
  'RESULT_UNAVAILABLE',
]);

/** The store's codes after which the request was certainly not applied: wait and retry. */
export const RETRY_LATER_CODES: ReadonlySet<string> = new Set(['NO_LEADER', 'LEADER_CHANGED', 'SERVER_BUSY', 'SHUTTING_DOWN']);

/** Transport failures: forget the leader, try the next peer. */
export const TRANSPORT_RETRY_CODES: ReadonlySet<string> = new Set(['TIMEOUT', 'CLOSED', 'UNREACHABLE', 'REMOTE_ERROR', 'QUEUE_FULL', 'HANDSHAKE_FAILED']);

/** Transport failures after which a sent write may have reached the store. */
export const TRANSPORT_UNKNOWN_CODES: ReadonlySet<string> = new Set(['TIMEOUT', 'CLOSED', 'UNREACHABLE', 'REMOTE_ERROR']);
