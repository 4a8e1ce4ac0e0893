import { existsSync } from 'node:fs';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic-write.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../wallet/keypair.ts';
import { runEpoch as defaultRunEpoch } from '../consensus/epoch.ts';
import type {
  BlockInfo,
  DevChain,
  EpochSchedule,
  MechanismOption,
  Metagraph,
  ServeAxonParams,
  Ss58,
  SubnetHyperparameters,
  Unsubscribe,
  WeightCommit,
} from './types.ts';
import { ChainError } from './types.ts';
import { chainCallSchema, toJson, type ChainCall, type ChainEvent } from './codec.ts';
import { serializeState, type ChainState } from './state.ts';
import { DEV_ACCOUNT_URIS, blake256, genesisState, loadStateFile, removeStaleTempFiles } from './state-file.ts';
import { applyCall } from './dispatch.ts';
import { blockStep, type EpochFn } from './coinbase.ts';
import { RAO_PER_TAO } from './hyperparams.ts';
import { balanceOf, getSubnet, totalHotkeyStake, uidOf } from './state-ops.ts';
import { mechanismOf } from './mechanisms.ts';
import { epochSchedule } from './schedule.ts';

/** Only carry `mechid` on the wire when it selects a mechanism other than 0 (the v1 call shape otherwise). */
function mech(opts: MechanismOption): { mechid?: number } {
  return opts.mechid ? { mechid: opts.mechid } : {};
}

export { DEV_ACCOUNT_URIS, DEV_ACCOUNT_BALANCE } from './state-file.ts';
const RECENT_BLOCKS = 256;

export interface LocalChainOptions {
  /** Real-time block production every N ms (12 000 like subtensor; 100 for demos); 0 = manual `produceBlocks` only. */
  blockTimeMs?: number;
  /** State file; loaded if present (unless `fresh`), written atomically. */
  statePath?: string;
  /** Ignore an existing state file and start from genesis. */
  fresh?: boolean;
  /** Persist every N blocks (extrinsics always persist before they return); default 1. */
  persistEveryBlocks?: number;
  /** RAO emitted per block per subnet; default 1 TAO. */
  blockEmission?: bigint;
  /** RAO locked by `registerNetwork`; default 100 TAO. */
  networkLockCost?: bigint;
  /** Fund //Alice … //Ferdie at genesis (default true). */
  devAccounts?: boolean;
  /** `StartCallDelay` for a new state (blocks after registration before `start_call`); default 0 like the runtime. */
  startCallDelay?: number;
  /** Seed for the genesis hash (deterministic tests); random by default. */
  genesisSeed?: string;
  /** Epoch implementation (defaults to consensus/epoch.ts runEpoch). */
  runEpoch?: EpochFn;
  /** Where persistence failures are reported (the chain keeps running, refusing writes until it can persist). */
  onError?: (err: Error) => void;
  /** Most signed-request nonces remembered (and persisted) within the replay window; default 50 000. */
  maxUsedNonces?: number;
}

/** A signed request's replay identity (public key + nonce) and until when (ms) it must stay refused. */
export interface ReplayClaim {
  key: string;
  expiresAt: number;
}

export interface DevAccount {
  uri: string;
  address: Ss58;
}

function u64le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/**
 * An embedded subtensor-like chain: balances, subnets, burned registration with pruning, stake,
 * axons, weights with commit-reveal v2, emission and a Yuma epoch every tempo. All state changes are
 * synchronous, so calls and blocks are naturally serialised on the event loop.
 */
export class LocalChain implements DevChain {
  readonly kind = 'local' as const;
  readonly devAccounts: DevAccount[];
  private state: ChainState;
  private readonly opts: Required<Omit<LocalChainOptions, 'statePath' | 'genesisSeed' | 'onError' | 'startCallDelay'>> & LocalChainOptions;
  /** Last state write failed (null when writes work): writes are refused meanwhile. */
  private persistFailure: Error | null = null;
  private usedNonceCount = 0;
  private readonly blockListeners = new Set<(b: BlockInfo) => void>();
  private readonly eventListeners = new Set<(e: ChainEvent) => void>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Set first thing in close(), so an in-flight block cannot schedule another. */
  private stopping = false;
  private producing: Promise<void> = Promise.resolve();
  private writeQueue: Promise<void> = Promise.resolve();
  private mutationSeq = 0;
  /** Calls applied since the last block, folded into the next block hash. */
  private blockLog: string[] = [];
  private persistedSeq = 0;
  /** Last measured cost of one state write, ms (serialise + atomic write). */
  lastPersistMs = 0;

  private constructor(state: ChainState, opts: LocalChainOptions, devAccounts: DevAccount[]) {
    this.state = state;
    this.devAccounts = devAccounts;
    this.opts = {
      blockTimeMs: 0,
      fresh: false,
      persistEveryBlocks: 1,
      blockEmission: RAO_PER_TAO,
      networkLockCost: 100n * RAO_PER_TAO,
      devAccounts: true,
      runEpoch: defaultRunEpoch,
      maxUsedNonces: 50_000,
      ...opts,
    };
    this.usedNonceCount = Object.keys(state.usedNonces).length;
  }

  /** Create (or recover from `statePath`) a chain; starts the block timer when `blockTimeMs` > 0. */
  static async create(opts: LocalChainOptions = {}): Promise<LocalChain> {
    await cryptoReady();
    const devAccounts = (opts.devAccounts ?? true) ? DEV_ACCOUNT_URIS.map((uri) => ({ uri, address: keypairFromUri(uri).ss58Address })) : [];
    let state: ChainState | null = null;
    if (opts.statePath) removeStaleTempFiles(opts.statePath);
    if (opts.statePath && !opts.fresh && existsSync(opts.statePath)) state = loadStateFile(opts.statePath);
    state ??= genesisState(opts, devAccounts);
    if (opts.startCallDelay !== undefined) state.startCallDelay = opts.startCallDelay;
    if (opts.blockEmission !== undefined) state.blockEmission = opts.blockEmission;
    const chain = new LocalChain(state, opts, devAccounts);
    if (opts.statePath) await chain.flush();
    if ((opts.blockTimeMs ?? 0) > 0) chain.scheduleNext();
    return chain;
  }

  // ---- block production ----

  /** Produce `k` blocks now (deterministic tests); resolves after each is persisted and announced. */
  produceBlocks(k = 1): Promise<BlockInfo> {
    const run = this.producing.then(async () => {
      for (let i = 0; i < k; i++) await this.produceOne();
      return this.state.head;
    });
    this.producing = run.then(() => undefined, () => undefined);
    return run;
  }

  private scheduleNext(): void {
    if (this.closed || this.stopping) return;
    const due = this.state.head.timestamp + this.opts.blockTimeMs;
    const wait = Math.max(0, Math.min(this.opts.blockTimeMs, due - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.produceBlocks(1).then(
        () => this.scheduleNext(),
        (e: unknown) => {
          this.report(e);
          this.scheduleNext();
        },
      );
    }, wait);
  }

  private async produceOne(): Promise<void> {
    if (this.closed) return;
    const s = this.state;
    const parent = s.head;
    s.head = { number: parent.number + 1, hash: parent.hash, timestamp: Date.now() };
    const events = blockStep(s, this.opts.runEpoch);
    // Digest of what changed the state in this block (calls, then the block step's events), like an
    // extrinsics root: deterministic for the same history, cheap whatever the state size.
    const digest = blake256(utf8ToBytes(toJson({ calls: this.blockLog, events })));
    this.blockLog = [];
    s.head.hash = `0x${bytesToHex(blake256(concatBytes(hexBytes(parent.hash), u64le(s.head.number), digest)))}`;
    s.recentBlocks.push(s.head);
    if (s.recentBlocks.length > RECENT_BLOCKS) s.recentBlocks.splice(0, s.recentBlocks.length - RECENT_BLOCKS);
    this.mutationSeq++;
    if (s.head.number % this.opts.persistEveryBlocks === 0) await this.flush();
    const head = { ...s.head };
    for (const e of events) this.emitEvent(e);
    for (const l of this.blockListeners) safeCall(() => l(head), (e) => this.report(e));
  }

  // ---- persistence ----

  /** Write the state if it changed since the last write (coalesced, one write at a time). */
  flush(): Promise<void> {
    const path = this.opts.statePath;
    if (!path) return Promise.resolve();
    const target = this.mutationSeq;
    this.writeQueue = this.writeQueue.then(async () => {
      if (this.persistedSeq >= target && existsSync(path)) return;
      const seq = this.mutationSeq;
      const t0 = performance.now();
      try {
        await writeFileAtomic(path, serializeState(this.state));
        this.persistedSeq = seq;
        this.lastPersistMs = performance.now() - t0;
        if (this.persistFailure) this.report(new Error(`state writes to ${path} work again; accepting writes`));
        this.persistFailure = null;
      } catch (e) {
        // reported once per outage, not once per block
        if (!this.persistFailure) this.report(new Error(`cannot write chain state ${path}: ${(e as Error).message}; refusing writes until it can`));
        this.persistFailure = e instanceof Error ? e : new Error(String(e));
      }
    });
    return this.writeQueue;
  }

  /** Why state writes fail right now (null when they work). */
  get persistenceError(): string | null {
    return this.persistFailure ? this.persistFailure.message : null;
  }

  /** Before a write: if persistence is failing, retry it once; still failing → refuse (nothing applied). */
  private async ensureWritable(): Promise<void> {
    if (!this.persistFailure) return;
    await this.flush();
    if (this.persistFailure) throw new ChainError('PersistenceFailed', `the chain state cannot be written (${this.persistFailure.message}); writes are refused until it can`);
  }

  /** After a mutation: acknowledged only once written. */
  private async durable(): Promise<void> {
    const seq = this.mutationSeq;
    await this.flush();
    if (this.opts.statePath && this.persistedSeq < seq) {
      throw new ChainError('PersistenceFailed', `applied in memory but the chain state could not be written (${this.persistenceError ?? 'unknown error'}): NOT acknowledged; writes are refused until the state can be written`);
    }
  }

  /** Record a replay identity in the state (persisted with the call); false when already used. */
  private claimNonce(claim: ReplayClaim): boolean {
    const used = this.state.usedNonces;
    if (used[claim.key] !== undefined) return false;
    if (this.usedNonceCount >= this.opts.maxUsedNonces) {
      const now = Date.now();
      for (const k of Object.keys(used)) if ((used[k] as number) < now) delete used[k];
      this.usedNonceCount = Object.keys(used).length;
      if (this.usedNonceCount >= this.opts.maxUsedNonces) throw new ChainError('ExhaustsResources', `more than ${this.opts.maxUsedNonces} signed writes within the replay window; retry later`);
    }
    used[claim.key] = claim.expiresAt;
    this.usedNonceCount++;
    return true;
  }

  private report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.opts.onError) this.opts.onError(err);
    else process.stderr.write(`localchain: ${err.message}\n`);
  }

  // ---- dispatch ----

  /**
   * Apply a call on behalf of `origin` (already authenticated: in process by holding the Keypair, on
   * the localnet server by signature). Validates the call with zod, persists, then returns.
   */
  async submit(origin: Ss58, call: ChainCall | unknown, replay?: ReplayClaim): Promise<number | null> {
    if (this.closed) throw new ChainError('ChainClosed', 'the chain has been closed');
    await this.ensureWritable();
    if (replay && !this.claimNonce(replay)) throw new ChainError('Stale', 'replayed request (nonce already used)');
    let applied: { parsed: ChainCall; result: number | null; events: ChainEvent[] };
    try {
      const parsed = chainCallSchema.safeParse(call);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ChainError('InvalidCall', issue ? `${issue.path.join('.')}: ${issue.message}` : 'malformed call');
      }
      applied = { parsed: parsed.data, ...applyCall(this.state, origin, parsed.data, { networkLockCost: this.opts.networkLockCost }) };
    } catch (e) {
      // the used nonce is persisted even when the call fails: its replay must not succeed after a restart
      if (replay) {
        this.mutationSeq++;
        await this.durable();
      }
      throw e;
    }
    this.blockLog.push(toJson({ origin, call: applied.parsed }));
    this.mutationSeq++;
    await this.durable();
    for (const e of applied.events) this.emitEvent(e);
    return applied.result;
  }

  private emitEvent(e: ChainEvent): void {
    for (const l of this.eventListeners) safeCall(() => l(e), (err) => this.report(err));
  }

  subscribeEvents(onEvent: (e: ChainEvent) => void): Unsubscribe {
    this.eventListeners.add(onEvent);
    return () => this.eventListeners.delete(onEvent);
  }

  // ---- Chain reads ----

  async getBlock(): Promise<BlockInfo> {
    return { ...this.state.head };
  }

  /** Headers kept in memory (last 256), oldest first, for subscribers catching up. */
  recentBlocks(fromNumber: number): BlockInfo[] {
    return this.state.recentBlocks.filter((b) => b.number >= fromNumber).map((b) => ({ ...b }));
  }

  get genesisHash(): string {
    return this.state.genesisHash;
  }

  subscribeBlocks(onBlock: (block: BlockInfo) => void): Unsubscribe {
    this.blockListeners.add(onBlock);
    return () => this.blockListeners.delete(onBlock);
  }

  async getBalance(coldkey: Ss58): Promise<bigint> {
    return balanceOf(this.state, coldkey);
  }

  async subnetExists(netuid: number): Promise<boolean> {
    return this.state.subnets[String(netuid)] !== undefined;
  }

  async listSubnets(): Promise<number[]> {
    return Object.keys(this.state.subnets).map(Number).sort((a, b) => a - b);
  }

  async getHyperparameters(netuid: number): Promise<SubnetHyperparameters> {
    const hp = getSubnet(this.state, netuid).hp;
    return { ...hp, mechanismCount: hp.mechanismCount ?? 1, ...(hp.mechanismEmissionSplit ? { mechanismEmissionSplit: [...hp.mechanismEmissionSplit] } : {}) };
  }

  async getMetagraph(netuid: number, opts: MechanismOption = {}): Promise<Metagraph> {
    const s = getSubnet(this.state, netuid);
    const mechid = opts.mechid ?? 0;
    const mech = mechanismOf(s, mechid);
    return {
      netuid,
      ...(mechid !== 0 ? { mechid } : {}),
      block: this.state.head.number,
      n: s.keys.length,
      ownerHotkey: s.ownerHotkey,
      hotkeys: [...s.keys],
      coldkeys: s.keys.map((hk) => this.state.hotkeyOwner[hk] ?? hk),
      stake: s.keys.map((hk) => totalHotkeyStake(this.state, netuid, hk)),
      validatorPermit: [...s.validatorPermit],
      active: [...s.active],
      lastUpdate: [...mech.lastUpdate],
      blockAtRegistration: [...s.blockAtRegistration],
      axons: s.axons.map((a) => (a ? { ...a } : null)),
      incentive: [...mech.incentive],
      dividends: [...s.dividends],
      consensus: [...s.consensus],
      validatorTrust: [...s.validatorTrust],
      emission: [...s.emission],
    };
  }

  async getUid(netuid: number, hotkey: Ss58): Promise<number | null> {
    return uidOf(getSubnet(this.state, netuid), hotkey);
  }

  async getEpochIndex(netuid: number): Promise<number> {
    return getSubnet(this.state, netuid).epochIndex;
  }

  async getWeightCommits(netuid: number, hotkey: Ss58, opts: MechanismOption = {}): Promise<WeightCommit[]> {
    return (mechanismOf(getSubnet(this.state, netuid), opts.mechid ?? 0).weightCommits[hotkey] ?? []).map((c) => ({ ...c }));
  }

  async getWeights(netuid: number, uid: number, opts: MechanismOption = {}): Promise<Array<[number, number]>> {
    const row = mechanismOf(getSubnet(this.state, netuid), opts.mechid ?? 0).weights[uid];
    return row ? row.map(([j, v]) => [j, v] as [number, number]) : [];
  }

  /** Extra read: stake of one (hotkey, coldkey) pair on a subnet, RAO. */
  async getStake(netuid: number, hotkey: Ss58, coldkey: Ss58): Promise<bigint> {
    return this.state.stake[String(netuid)]?.[hotkey]?.[coldkey] ?? 0n;
  }

  /** Extra read: accounting totals (RAO minted by emission, RAO burned or locked). */
  async getTotals(): Promise<{ issuance: bigint; burned: bigint }> {
    return { issuance: this.state.totalIssuance, burned: this.state.totalBurned };
  }

  /** Extra read: emission accumulated for the next epoch (miner + validator share). */
  async getPendingEmission(netuid: number): Promise<bigint> {
    return getSubnet(this.state, netuid).pendingEmission;
  }

  // ---- Chain writes (signed by holding the key) ----

  async registerNetwork(coldkey: Keypair, ownerHotkey: Ss58, hyperparameters?: Partial<SubnetHyperparameters>): Promise<number> {
    return (await this.submit(coldkey.ss58Address, { call: 'registerNetwork', args: { ownerHotkey, hyperparameters } }))!;
  }

  async burnedRegister(coldkey: Keypair, netuid: number, hotkey: Ss58): Promise<number> {
    return (await this.submit(coldkey.ss58Address, { call: 'burnedRegister', args: { netuid, hotkey } }))!;
  }

  async serveAxon(hotkey: Keypair, netuid: number, axon: ServeAxonParams): Promise<void> {
    await this.submit(hotkey.ss58Address, { call: 'serveAxon', args: { netuid, axon } });
  }

  async addStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'addStake', args: { hotkey, netuid, amount } });
  }

  async removeStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'removeStake', args: { hotkey, netuid, amount } });
  }

  async transfer(coldkey: Keypair, dest: Ss58, amount: bigint): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'transfer', args: { dest, amount } });
  }

  async setWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], versionKey: bigint, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey.ss58Address, { call: 'setWeights', args: { netuid, ...mech(opts), uids, values, versionKey } });
  }

  async commitWeights(hotkey: Keypair, netuid: number, commitHash: string, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey.ss58Address, { call: 'commitWeights', args: { netuid, ...mech(opts), commitHash } });
  }

  async revealWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], salt: number[], versionKey: bigint, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey.ss58Address, { call: 'revealWeights', args: { netuid, ...mech(opts), uids, values, salt, versionKey } });
  }

  async startCall(coldkey: Keypair, netuid: number): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'startCall', args: { netuid } });
  }

  async setTempo(coldkey: Keypair, netuid: number, tempo: number): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'setTempo', args: { netuid, tempo } });
  }

  async triggerEpoch(coldkey: Keypair, netuid: number): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'triggerEpoch', args: { netuid } });
  }

  async setMechanismCount(coldkey: Keypair, netuid: number, count: number): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'setMechanismCount', args: { netuid, count } });
  }

  async setMechanismEmissionSplit(coldkey: Keypair, netuid: number, split: number[] | null): Promise<void> {
    await this.submit(coldkey.ss58Address, { call: 'setMechanismEmissionSplit', args: { netuid, split } });
  }

  async getEpochSchedule(netuid: number): Promise<EpochSchedule> {
    return epochSchedule(getSubnet(this.state, netuid));
  }

  async faucet(coldkey: Ss58, amount: bigint): Promise<void> {
    if (amount <= 0n) throw new ChainError('InvalidValue', 'faucet amount must be positive');
    await this.ensureWritable();
    this.state.balances[coldkey] = balanceOf(this.state, coldkey) + amount;
    this.state.totalIssuance += amount;
    this.blockLog.push(toJson({ faucet: coldkey, amount }));
    this.mutationSeq++;
    await this.durable();
    this.emitEvent({ name: 'Faucet', block: this.state.head.number, data: { coldkey, amount: amount.toString() } });
  }

  async setHyperparameters(owner: Keypair, netuid: number, params: Partial<SubnetHyperparameters>): Promise<void> {
    await this.submit(owner.ss58Address, { call: 'setHyperparameters', args: { netuid, params } });
  }

  /** Stop producing blocks and write the final state (also usable from a signal handler via closeSync). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.producing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closed = true;
    this.mutationSeq++;
    await this.flush();
    this.blockListeners.clear();
    this.eventListeners.clear();
  }

  /** Synchronous final write for exit paths where the event loop may not run again. */
  closeSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closed = true;
    if (this.opts.statePath) writeFileAtomicSync(this.opts.statePath, serializeState(this.state));
  }
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

function safeCall(fn: () => void, onError: (e: unknown) => void): void {
  try {
    fn();
  } catch (e) {
    onError(e);
  }
}
