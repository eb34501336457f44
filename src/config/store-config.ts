// The store node's configuration: its shape, defaults and validation rules. The YAML file is
// read by load.ts; this file only says what a valid configuration is.

import { z } from 'zod';
import { MAX_KEY_BYTES } from '../kv/engine/common.js';
import { formatAddress, isWildcardHost, parseAddress } from './address.js';
import { regionLayoutProblems } from './regions.js';
import { parseByteSize } from './sizes.js';
import { describeValue, quote } from './text.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface PeerConfig {
  /** The peer's node id (same rules as `nodeId`). Required. */
  readonly id: string;
  /** Where the peer's transport listens: "host:port" (port 1..65535; IPv6 as "[::1]:7201"). Required. */
  readonly address: string;
}

export interface RegionConfig {
  /** Region id, unique in the list; 1..64 of A-Z a-z 0-9 _ . - (a YAML number is taken as its text). */
  readonly id: string;
  /** First key of the region, inclusive; '' = from the smallest key. Default ''. */
  readonly startKey: string;
  /** First key after the region, exclusive; '' = to the end of the key space. Default ''. */
  readonly endKey: string;
}

export interface RaftConfig {
  /** Length of one Raft tick, in ms. Default 100. */
  readonly tickMs: number;
  /** Election timeout in ms (randomised up to twice this); at least 3 x tickMs and above heartbeatIntervalMs. Default 1000. */
  readonly electionTimeoutMs: number;
  /** Leader heartbeat interval in ms; at least tickMs. Default 100. */
  readonly heartbeatIntervalMs: number;
  /** Take a snapshot after this many entries were applied since the last one, in entries. Default 100000. */
  readonly snapshotEveryEntries: number;
  /** Entries kept in the log behind a snapshot for slightly lagging followers, in entries. Default 1000. */
  readonly snapshotMarginEntries: number;
  /** Proposals waiting to commit before new ones are refused with BUSY, a count. Default 10000. */
  readonly maxPendingProposals: number;
  /** Largest log entry accepted, in bytes (a number or a size like "4MiB"). Default 4 MiB. */
  readonly maxEntryBytes: number;
  /** Pre-vote before elections, so a partitioned node cannot disrupt the leader. Default true. */
  readonly preVote: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout. Default true. */
  readonly checkQuorum: boolean;
  /** Serve linearizable reads from the leader lease instead of a ReadIndex round (needs checkQuorum). Default false. */
  readonly leaseReads: boolean;
}

export interface ServerConfig {
  /** Client requests in flight before new ones are refused with BUSY, a count. Default 4096. */
  readonly maxPendingRequests: number;
  /** Bytes of client requests in flight before new ones are refused with BUSY (a number or a size like "64MiB"). Default 64 MiB. */
  readonly maxPendingBytes: number;
  /** How long the reply to a client call is remembered for retries, in ms. Default 60000. */
  readonly retryCacheExpiryMs: number;
}

export interface KvConfig {
  /** Largest key accepted, in bytes (a number or a size); at most 1978, the LMDB limit. Default 1978. */
  readonly maxKeyBytes: number;
  /** Largest value accepted, in bytes (a number or a size like "1MiB"); below raft.maxEntryBytes. Default 1 MiB. */
  readonly maxValueBytes: number;
  /** A region holding fewer keys than this is not split: rangeSplit answers TOO_SMALL_TO_SPLIT, a count. Default 2. */
  readonly splitMinKeys: number;
}

export interface MetricsConfig {
  /** Where to serve metrics over HTTP: "host:port". Default: absent, metrics are off. */
  readonly listen?: string | undefined;
}

export interface LogConfig {
  /** Least severe level written: 'debug' | 'info' | 'warn' | 'error'. Default 'info'. */
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  /** 'json' (one object per line) or 'pretty' (for people). Default 'json'. */
  readonly format: 'json' | 'pretty';
}

export interface PdConfig {
  /** Run the placement driver: stores report to it and it splits, balances and moves regions. Default false (a static cluster: regions as configured, moved only by hand). */
  readonly enabled: boolean;
  /** Stores hosting the PD Raft group (ids from `peers`). Default: every peer. Ignored with `join`. */
  readonly voters?: readonly string[] | undefined;
  /** A new store joining a running cluster: the stores hosting PD (or PD's own processes). It starts with no regions; PD moves replicas to it. Default: absent. */
  readonly join?: readonly PeerConfig[] | undefined;
  /** PD runs in processes of its own (`raftkv pd-server`): a first store with the static regions reports to these and hosts no PD replica. Default: absent (PD inside the stores). */
  readonly endpoints?: readonly PeerConfig[] | undefined;
  /** How often a store reports to PD, in ms. Default 1000. */
  readonly heartbeatMs: number;
  /** How often PD's schedulers run, in ms. Default 1000. */
  readonly scheduleIntervalMs: number;
  /** After a PD leader change, how long to collect heartbeats before scheduling, in ms. Default 3000. */
  readonly warmupMs: number;
  /** An operator (split, move, leader transfer) not done in this time is dropped and decided again, in ms. Default 60000. */
  readonly operatorTimeoutMs: number;
  /** Split a region holding more keys than this (0 = never by key count), a count. Default 100000. */
  readonly splitMaxKeys: number;
  /** Split a region larger than this (the engine's approximate size; a number or a size like "64MiB"). Default 64 MiB. */
  readonly splitMaxBytes: number;
  /** A store silent this long is down and its replicas are replaced elsewhere, in ms. Default 1800000 (30 min). */
  readonly storeDownAfterMs: number;
  /** Leaders are moved while the busiest and idlest stores differ by more than this, a count. Default 1. */
  readonly leaderBalanceTolerance: number;
  /** Replicas are moved while region counts of stores differ by more than this, a count. Default 1. */
  readonly replicaBalanceTolerance: number;
  /** Replica moves running at once over the cluster, a count. Default 4. */
  readonly maxConcurrentMoves: number;
}

export interface StoreConfig {
  /** Cluster name exchanged in the transport handshake; nodes of other clusters are refused. Default 'raftkv'. */
  readonly cluster: string;
  /** This node's id: 1..64 of A-Z a-z 0-9 _ . -; must be one of `peers`. Required. */
  readonly nodeId: string;
  /** Where this node's transport listens: "host:port" (port 1..65535; IPv6 as "[::1]:7201"). Split it with parseAddress(). Required. */
  readonly listen: string;
  /** Directory for the Raft logs, snapshots and the KV engine; relative paths are taken from the config file's directory (loaded: absolute). Required. */
  readonly dataDir: string;
  /** KV storage engine: 'lmdb' (on disk) or 'memory' (rebuilt from the Raft log and snapshots at every start). Default 'lmdb'. */
  readonly engine: 'lmdb' | 'memory';
  /** Every voter of the cluster, this node included, with unique ids and addresses. Required, at least one. */
  readonly peers: readonly PeerConfig[];
  /** Static regions, listed in key order, covering the key space from '' to '' without gaps or overlaps. Default one region {id: '1', startKey: '', endKey: ''}. */
  readonly regions: readonly RegionConfig[];
  /** Raft timing and limits. Every field has a default. */
  readonly raft: RaftConfig;
  /** Client request handling. Every field has a default. */
  readonly server: ServerConfig;
  /** Key/value limits. Every field has a default. */
  readonly kv: KvConfig;
  /** Metrics endpoint. Default: off. */
  readonly metrics: MetricsConfig;
  /** Logging. Every field has a default. */
  readonly log: LogConfig;
  /** The placement driver. Default: off (a static cluster). */
  readonly pd: PdConfig;
}

// ---- field schemas ----

const ID_RULE = '1 to 64 characters from A-Z a-z 0-9 _ . -';

/** Cross-field rules run only once the fields they compare are valid, so they never report noise. */
const whenFieldsValid = { when: (payload: z.core.ParsePayload) => payload.issues.length === 0 };

/** Text of 1..64 characters from [A-Za-z0-9_.-]: ids and the cluster name. */
const idText = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: (iss) => `must be ${ID_RULE}, got ${describeValue(iss.input)}` });

/** A node or region id: idText, or a YAML number taken as its text (`id: 1` means '1'). */
const id = z
  .union([z.string(), z.number().int().nonnegative()], {
    error: (iss) => (iss.input === undefined ? 'is required' : `must be a string of ${ID_RULE}, got ${describeValue(iss.input)}`),
  })
  .transform(String)
  .pipe(idText);

/** "host:port", kept as written; parseAddress() splits it. */
const address = z.string().refine((text) => parseAddress(text) !== undefined, {
  error: (iss) => `must be "host:port" with a port from 1 to 65535, got ${describeValue(iss.input)}`,
});

const positiveInt = (defaultValue: number) => z.number().int().positive().default(defaultValue);

/** A size in bytes: a positive integer or a string like "512KiB" / "64 MiB". */
const byteSize = (defaultValue: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .union([z.number(), z.string()], { error: (iss) => `must be a size in bytes, as a number or a string like '512KiB', got ${describeValue(iss.input)}` })
    .transform((size, ctx) => {
      if (typeof size === 'number') return size;
      const bytes = parseByteSize(size);
      if (bytes !== undefined) return bytes;
      ctx.issues.push({ code: 'custom', input: size, message: `bad size ${quote(size)}: write a number of bytes or a number with a unit B, KiB, MiB or GiB, like '512KiB' or '64 MiB'` });
      return z.NEVER;
    })
    .pipe(z.number().int().positive().max(max))
    .default(defaultValue);

// ---- sections ----

const peer = z.strictObject({ id, address });

const peers = z
  .array(peer)
  .min(1)
  .superRefine((list, ctx) => {
    const ids = new Map<string, number>();
    const addresses = new Map<string, number>();
    list.forEach((p, i) => {
      const addr = normalAddress(p.address);
      const sameId = ids.get(p.id);
      const sameAddress = addresses.get(addr);
      if (sameId !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'id'], input: p.id, message: `duplicate peer id ${quote(p.id)} (also peers[${sameId}])` });
      if (sameAddress !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'address'], input: p.address, message: `duplicate peer address ${p.address} (also peers[${sameAddress}])` });
      ids.set(p.id, sameId ?? i);
      addresses.set(addr, sameAddress ?? i);
    });
  }, whenFieldsValid);

const region = z.strictObject({ id, startKey: z.string().default(''), endKey: z.string().default('') });

const regions = z
  .array(region)
  .min(1)
  .superRefine((list, ctx) => {
    for (const p of regionLayoutProblems(list)) ctx.addIssue({ code: 'custom', path: p.path, input: list, message: p.message });
  }, whenFieldsValid)
  .default([{ id: '1', startKey: '', endKey: '' }]);

const raft = z
  .strictObject({
    tickMs: positiveInt(100),
    electionTimeoutMs: positiveInt(1000),
    heartbeatIntervalMs: positiveInt(100),
    snapshotEveryEntries: positiveInt(100_000),
    snapshotMarginEntries: positiveInt(1000),
    maxPendingProposals: positiveInt(10_000),
    maxEntryBytes: byteSize(4 * MiB),
    preVote: z.boolean().default(true),
    checkQuorum: z.boolean().default(true),
    leaseReads: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    const problem = (field: keyof RaftConfig, message: string) => ctx.addIssue({ code: 'custom', path: [field], input: r[field], message });
    if (r.electionTimeoutMs < 3 * r.tickMs) {
      problem('electionTimeoutMs', `must be at least 3 x tickMs (${3 * r.tickMs}), got ${r.electionTimeoutMs}`);
    }
    if (r.electionTimeoutMs <= r.heartbeatIntervalMs) {
      problem('electionTimeoutMs', `must be greater than heartbeatIntervalMs (${r.heartbeatIntervalMs}), got ${r.electionTimeoutMs}`);
    }
    if (r.heartbeatIntervalMs < r.tickMs) {
      problem('heartbeatIntervalMs', `must be at least tickMs (${r.tickMs}), got ${r.heartbeatIntervalMs}`);
    }
    if (r.leaseReads && !r.checkQuorum) {
      problem('leaseReads', 'needs checkQuorum: true (a lease is only safe when a leader without a quorum steps down)');
    }
  }, whenFieldsValid)
  .prefault({});

const server = z
  .strictObject({
    maxPendingRequests: positiveInt(4096),
    maxPendingBytes: byteSize(64 * MiB),
    retryCacheExpiryMs: positiveInt(60_000),
  })
  .prefault({});

const kv = z
  .strictObject({
    maxKeyBytes: byteSize(MAX_KEY_BYTES, MAX_KEY_BYTES),
    maxValueBytes: byteSize(1 * MiB),
    splitMinKeys: positiveInt(2),
  })
  .prefault({});

const metrics = z.strictObject({ listen: address.optional() }).prefault({});

const log = z
  .strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    format: z.enum(['json', 'pretty']).default('json'),
  })
  .prefault({});

const nonNegativeInt = (defaultValue: number) => z.number().int().nonnegative().default(defaultValue);

const pd = z
  .strictObject({
    enabled: z.boolean().default(false),
    voters: z.array(id).min(1).optional(),
    join: z.array(peer).min(1).optional(),
    endpoints: z.array(peer).min(1).optional(),
    heartbeatMs: positiveInt(1000),
    scheduleIntervalMs: positiveInt(1000),
    warmupMs: nonNegativeInt(3000),
    operatorTimeoutMs: positiveInt(60_000),
    splitMaxKeys: nonNegativeInt(100_000),
    splitMaxBytes: byteSize(64 * MiB),
    storeDownAfterMs: positiveInt(30 * 60_000),
    leaderBalanceTolerance: nonNegativeInt(1),
    replicaBalanceTolerance: nonNegativeInt(1),
    maxConcurrentMoves: positiveInt(4),
  })
  .prefault({});

// ---- the whole file ----

/** Validates a parsed configuration document and fills in the defaults. `dataDir` is left as written. */
export const storeConfigSchema: z.ZodType<StoreConfig> = z
  .strictObject({
    cluster: idText.default('raftkv'),
    nodeId: id,
    listen: address,
    dataDir: z.string().min(1),
    engine: z.enum(['lmdb', 'memory']).default('lmdb'),
    peers,
    regions,
    raft,
    server,
    kv,
    metrics,
    log,
    pd,
  })
  .superRefine((c, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, input: c, message });
    const self = c.peers.findIndex((p) => p.id === c.nodeId);
    if (self < 0) {
      problem(['peers'], `must include this node (nodeId ${quote(c.nodeId)}); ids listed: ${c.peers.map((p) => quote(p.id)).join(', ')}`);
    } else if (!sameEndpoint(c.listen, c.peers[self]!.address)) {
      problem(['peers', self, 'address'], `this node's address ${c.peers[self]!.address} does not match listen (${c.listen})`);
    }
    if (c.metrics.listen !== undefined && sameEndpoint(c.listen, c.metrics.listen)) {
      problem(['metrics', 'listen'], `must differ from listen (${c.listen})`);
    }
    for (const [i, v] of (c.pd.join ? [] : (c.pd.voters ?? [])).entries()) {
      if (!c.peers.some((p) => p.id === v)) problem(['pd', 'voters', i], `must be one of peers (${c.peers.map((p) => quote(p.id)).join(', ')}), got ${quote(v)}`);
    }
    if (c.pd.join && c.pd.join.some((p) => p.id === c.nodeId)) problem(['pd', 'join'], `lists the stores to join through, not this node (${quote(c.nodeId)})`);
    if (c.pd.join && c.pd.endpoints) problem(['pd', 'endpoints'], 'does not go with pd.join (join: a new store with no regions; endpoints: a first store, PD in processes of its own)');
    if (c.pd.endpoints && c.pd.voters) problem(['pd', 'voters'], 'does not go with pd.endpoints (PD then runs in processes of its own, not in stores)');
    if (c.pd.endpoints && c.pd.endpoints.some((p) => c.peers.some((q) => q.id === p.id))) {
      problem(['pd', 'endpoints'], `lists PD's own processes, whose ids must differ from the stores' (${c.peers.map((p) => quote(p.id)).join(', ')})`);
    }
    // The placement driver names the regions it creates r1, r2, ...
    if (c.pd.enabled || c.pd.join || c.pd.endpoints) {
      for (const [i, r] of c.regions.entries()) {
        if (/^r\d+$/.test(r.id)) problem(['regions', i, 'id'], `${quote(r.id)} has the form the placement driver gives new regions (r<number>); choose another id`);
      }
    }
    if (c.kv.maxValueBytes >= c.raft.maxEntryBytes) {
      problem(['kv', 'maxValueBytes'], `must be less than raft.maxEntryBytes (${c.raft.maxEntryBytes}) so that a write fits in one log entry, got ${c.kv.maxValueBytes}`);
    }
  }, whenFieldsValid);

/** Whether two valid "host:port" addresses name the same endpoint; 0.0.0.0 and :: match any host. */
function sameEndpoint(a: string, b: string): boolean {
  const [x, y] = [parseAddress(a)!, parseAddress(b)!];
  return x.port === y.port && (x.host.toLowerCase() === y.host.toLowerCase() || isWildcardHost(x.host) || isWildcardHost(y.host));
}

/** A valid "host:port" in one spelling, for spotting duplicates ("LOCALHOST:01" = "localhost:1"). */
function normalAddress(text: string): string {
  const a = parseAddress(text)!;
  return formatAddress({ host: a.host.toLowerCase(), port: a.port });
}
