import { existsSync } from 'node:fs';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic-write.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../wallet/keypair.ts';
import { runEpoch as defaultRunEpoch } from '../consensus/epoch.ts';
import type {
  BlockInfo,
  DevChain,
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
  /** Seed for the genesis hash (deterministic tests); random by default. */
  genesisSeed?: string;
  /** Epoch implementation (defaults to consensus/epoch.ts runEpoch). */
  runEpoch?: EpochFn;
  /** Where persistence failures are reported (the chain keeps running). */
  onError?: (err: Error) => void;
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
  private readonly opts: Required<Omit<LocalChainOptions, 'statePath' | 'genesisSeed' | 'onError'>> & LocalChainOptions;
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
      ...opts,
    };
  }

  /** Create (or recover from `statePath`) a chain; starts the block timer when `blockTimeMs` > 0. */
  static async create(opts: LocalChainOptions = {}): Promise<LocalChain> {
    await cryptoReady();
    const devAccounts = (opts.devAccounts ?? true) ? DEV_ACCOUNT_URIS.map((uri) => ({ uri, address: keypairFromUri(uri).ss58Address })) : [];
    let state: ChainState | null = null;
    if (opts.statePath) removeStaleTempFiles(opts.statePath);
    if (opts.statePath && !opts.fresh && existsSync(opts.statePath)) state = loadStateFile(opts.statePath);
    state ??= genesisState(opts, devAccounts);
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
      } catch (e) {
        this.report(e);
      }
    });
    return this.writeQueue;
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
  async submit(origin: Ss58, call: ChainCall | unknown): Promise<number | null> {
    if (this.closed) throw new ChainError('ChainClosed', 'the chain has been closed');
    const parsed = chainCallSchema.safeParse(call);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ChainError('InvalidCall', issue ? `${issue.path.join('.')}: ${issue.message}` : 'malformed call');
    }
    const { result, events } = applyCall(this.state, origin, parsed.data, { networkLockCost: this.opts.networkLockCost });
    this.blockLog.push(toJson({ origin, call: parsed.data }));
    this.mutationSeq++;
    await this.flush();
    for (const e of events) this.emitEvent(e);
    return result;
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

  async getHyperparameters(netuid: number): Promise<SubnetHyperparameters> {
    return { ...getSubnet(this.state, netuid).hp };
  }

  async getMetagraph(netuid: number): Promise<Metagraph> {
    const s = getSubnet(this.state, netuid);
    return {
      netuid,
      block: this.state.head.number,
      n: s.keys.length,
      ownerHotkey: s.ownerHotkey,
      hotkeys: [...s.keys],
      coldkeys: s.keys.map((hk) => this.state.hotkeyOwner[hk] ?? hk),
      stake: s.keys.map((hk) => totalHotkeyStake(this.state, netuid, hk)),
      validatorPermit: [...s.validatorPermit],
      active: [...s.active],
      lastUpdate: [...s.lastUpdate],
      blockAtRegistration: [...s.blockAtRegistration],
      axons: s.axons.map((a) => (a ? { ...a } : null)),
      incentive: [...s.incentive],
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

  async getWeightCommits(netuid: number, hotkey: Ss58): Promise<WeightCommit[]> {
    return (getSubnet(this.state, netuid).weightCommits[hotkey] ?? []).map((c) => ({ ...c }));
  }

  async getWeights(netuid: number, uid: number): Promise<Array<[number, number]>> {
    const row = getSubnet(this.state, netuid).weights[uid];
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

  async setWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], versionKey: bigint): Promise<void> {
    await this.submit(hotkey.ss58Address, { call: 'setWeights', args: { netuid, uids, values, versionKey } });
  }

  async commitWeights(hotkey: Keypair, netuid: number, commitHash: string): Promise<void> {
    await this.submit(hotkey.ss58Address, { call: 'commitWeights', args: { netuid, commitHash } });
  }

  async revealWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], salt: number[], versionKey: bigint): Promise<void> {
    await this.submit(hotkey.ss58Address, { call: 'revealWeights', args: { netuid, uids, values, salt, versionKey } });
  }

  async faucet(coldkey: Ss58, amount: bigint): Promise<void> {
    if (amount <= 0n) throw new ChainError('InvalidValue', 'faucet amount must be positive');
    this.state.balances[coldkey] = balanceOf(this.state, coldkey) + amount;
    this.state.totalIssuance += amount;
    this.blockLog.push(toJson({ faucet: coldkey, amount }));
    this.mutationSeq++;
    await this.flush();
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
