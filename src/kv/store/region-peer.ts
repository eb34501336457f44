// One region hosted by a store: its Raft node, its KV state machine (behind the retry cache),
// its engine and its directory.
//
//   <dataDir>/regions/<id>/region.json   the region as created (written last: the commit marker)
//   <dataDir>/regions/<id>/raft/         the Raft log, hard state and snapshots (DiskStorage)
//   <dataDir>/regions/<id>/kv/           the engine's files (lmdb); nothing for the memory engine
//
// The region's current range and epoch live in the state machine (they change when a split
// applies); region.json only says how the region began.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { writeFileDurableSync } from '../../storage/fs-util.js';
import { join } from 'node:path';
import type { Rand } from '../../raft/core/random.js';
import { NONE } from '../../raft/core/types.js';
import { RaftNode } from '../../raft/runtime/raft-node.js';
import type { RaftTransportPort } from '../../raft/runtime/transport-port.js';
import type { NodeStorage } from '../../raft/runtime/node-storage.js';
import { CallStateMachine } from '../../server/call-state-machine.js';
import { DiskStorage } from '../../storage/disk-storage.js';
import type { KvEngine } from '../engine/engine.js';
import { LmdbEngine } from '../engine/lmdb-engine.js';
import { MemoryEngine } from '../engine/memory-engine.js';
import { type KvLimits, KvStateMachine, type NodeCallback } from '../kv-state-machine.js';
import { type RegionMeta, SPLIT_INIT_INDEX, SPLIT_INIT_TERM, decodeRegionMeta, encodeRegionMeta } from '../region.js';

export type EngineKind = 'lmdb' | 'memory';

export interface RegionRaftOptions {
  tickMs: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  snapshotEveryEntries: number;
  snapshotMarginEntries: number;
  maxPendingProposals: number;
  maxEntryBytes: number;
  preVote: boolean;
  checkQuorum: boolean;
}

export interface RegionPeerContext {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly engine: EngineKind;
  readonly transport: RaftTransportPort;
  readonly raft: RegionRaftOptions;
  readonly limits: KvLimits;
  readonly retryCacheExpiryMs: number;
  /** Wraps the storage (fault injection in tests). */
  readonly wrapStorage?: (s: DiskStorage) => NodeStorage;
  readonly random?: Rand;
  readonly onRepair?: (message: string) => void;
  readonly onSplit: (child: RegionMeta, image: Uint8Array, parentId: string) => Promise<void>;
  readonly onSplitsLearned: (childIds: readonly string[]) => void;
  /** nodeExecute callbacks, registered on every region's state machine. */
  readonly callbacks: ReadonlyMap<string, NodeCallback>;
}

/** Requests a region served on this store since it opened (counters only rise). */
export interface RegionTraffic {
  reads: number;
  writes: number;
  /** Bytes of read replies and of write requests. */
  readBytes: number;
  writeBytes: number;
}

export class RegionPeer {
  /** For the placement driver's read/write rates. */
  readonly traffic: RegionTraffic = { reads: 0, writes: 0, readBytes: 0, writeBytes: 0 };

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly node: RaftNode<Uint8Array>,
    readonly kv: KvStateMachine,
    readonly sm: CallStateMachine,
    private readonly engine: KvEngine,
  ) {}

  /** The region now (as of the last applied entry on this replica). */
  get meta(): RegionMeta {
    return this.kv.region;
  }

  static regionsDir(dataDir: string): string {
    return join(dataDir, 'regions');
  }

  static dirOf(dataDir: string, id: string): string {
    return join(RegionPeer.regionsDir(dataDir), encodeURIComponent(id));
  }

  /** Regions created on this store earlier (directories with a region.json), by id. */
  static discover(dataDir: string): RegionMeta[] {
    const root = RegionPeer.regionsDir(dataDir);
    if (!existsSync(root)) return [];
    const out: RegionMeta[] = [];
    for (const name of readdirSync(root)) {
      const file = join(root, name, 'region.json');
      if (existsSync(file)) out.push(decodeRegionMeta(readFileSync(file)));
    }
    return out;
  }

  /** The region.json of one region created here earlier (undefined if there is none). */
  static readMeta(dataDir: string, id: string): RegionMeta | undefined {
    const file = join(RegionPeer.dirOf(dataDir, id), 'region.json');
    return existsSync(file) ? decodeRegionMeta(readFileSync(file)) : undefined;
  }

  static exists(dataDir: string, id: string): boolean {
    return existsSync(join(RegionPeer.dirOf(dataDir, id), 'region.json'));
  }

  /**
   * Creates the directory of a region that begins from a snapshot image (a split's right half):
   * a Raft storage holding that snapshot at (SPLIT_INIT_INDEX, SPLIT_INIT_TERM), durably, then
   * region.json. A leftover directory without region.json (a crash half way) is started over.
   */
  static async createFromImage(ctx: RegionPeerContext, meta: RegionMeta, image: Uint8Array): Promise<void> {
    const dir = RegionPeer.dirOf(ctx.dataDir, meta.id);
    if (RegionPeer.exists(ctx.dataDir, meta.id)) return;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const storage = await DiskStorage.open(join(dir, 'raft'));
    await storage.installSnapshot({
      meta: {
        index: SPLIT_INIT_INDEX,
        term: SPLIT_INIT_TERM,
        confState: { voters: meta.voters, learners: meta.learners, votersOutgoing: [], learnersNext: [], autoLeave: false },
      },
      data: CallStateMachine.imageWithEmptyCache(image, ctx.retryCacheExpiryMs),
    });
    storage.setHardState({ term: SPLIT_INIT_TERM, vote: NONE, commit: SPLIT_INIT_INDEX });
    await storage.sync();
    await storage.close();
    writeRegionJson(dir, meta);
  }

  /** Writes region.json for a region bootstrapped from configuration (if not there yet). */
  static createStatic(dataDir: string, meta: RegionMeta): void {
    const dir = RegionPeer.dirOf(dataDir, meta.id);
    if (RegionPeer.exists(dataDir, meta.id)) return;
    mkdirSync(dir, { recursive: true });
    writeRegionJson(dir, meta);
  }

  /**
   * Writes region.json for a region this store must host but has no state of (a split it
   * missed): version 0 until the region's leader sends it a snapshot, so no request routed
   * with a real epoch is served from it before then.
   */
  static createEmpty(dataDir: string, id: string): RegionMeta {
    const meta: RegionMeta = { id, startKey: new Uint8Array(0), endKey: new Uint8Array(0), epoch: { confVer: 0, version: 0 }, voters: [], learners: [] };
    RegionPeer.createStatic(dataDir, meta);
    return meta;
  }

  /**
   * Opens a region created before (createStatic / createFromImage) and starts its node.
   * `bootstrapVoters`: the voters of a brand-new static region (ignored once it has state).
   */
  static async open(ctx: RegionPeerContext, initial: RegionMeta, bootstrapVoters?: readonly string[]): Promise<RegionPeer> {
    const dir = RegionPeer.dirOf(ctx.dataDir, initial.id);
    const disk = await DiskStorage.open(join(dir, 'raft'), { ...(ctx.onRepair ? { onRepair: ctx.onRepair } : {}) });
    const storage = ctx.wrapStorage ? ctx.wrapStorage(disk) : disk;
    let engine: KvEngine;
    if (ctx.engine === 'lmdb') {
      mkdirSync(join(dir, 'kv'), { recursive: true });
      engine = LmdbEngine.open(join(dir, 'kv', 'data.mdb'));
    } else {
      engine = new MemoryEngine();
    }
    const kv = new KvStateMachine(engine, ctx.limits, Date.now, { region: initial, onSplit: ctx.onSplit, onSplitsLearned: ctx.onSplitsLearned });
    for (const [name, fn] of ctx.callbacks) kv.registerCallback(name, fn);
    const sm = new CallStateMachine(kv, ctx.retryCacheExpiryMs);
    const r = ctx.raft;
    const node = await RaftNode.start<Uint8Array>({
      id: ctx.nodeId,
      groupId: initial.id,
      storage,
      stateMachine: sm,
      transport: ctx.transport,
      ...(bootstrapVoters ? { initialVoters: bootstrapVoters } : {}),
      tickMs: r.tickMs,
      electionTimeoutMs: r.electionTimeoutMs,
      heartbeatIntervalMs: r.heartbeatIntervalMs,
      snapshotEveryEntries: r.snapshotEveryEntries,
      snapshotMarginEntries: r.snapshotMarginEntries,
      maxPendingProposals: r.maxPendingProposals,
      maxEntryBytes: r.maxEntryBytes,
      raft: { preVote: r.preVote, checkQuorum: r.checkQuorum },
      ...(ctx.random ? { random: ctx.random } : {}),
    });
    return new RegionPeer(initial.id, dir, node, kv, sm, engine);
  }

  async stop(): Promise<void> {
    await this.node.stop();
    await this.engine.close();
  }
}

/** region.json, written atomically (temp file, fsync, rename). */
function writeRegionJson(dir: string, meta: RegionMeta): void {
  writeFileDurableSync(join(dir, 'region.json'), encodeRegionMeta(meta));
}
