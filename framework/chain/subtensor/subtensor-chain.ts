/**
 * `Chain` on a real subtensor node (or chopsticks running a real runtime) through @polkadot/api.
 * Everything is looked up by name in the connected runtime's metadata (surface.ts, calls.ts), reads
 * are pinned to the finalized head unless asked otherwise, writes go through one Submitter.
 */
import type { ApiPromise } from '@polkadot/api';
import type { ApiDecoration, SubmittableExtrinsic } from '@polkadot/api/types';
import type { Codec } from '@polkadot/types/types';
import type { Keypair } from '../../wallet/keypair.ts';
import {
  ChainError,
  type BlockInfo,
  type Chain,
  type MechanismOption,
  type Metagraph,
  type ServeAxonParams,
  type Ss58,
  type SubnetHyperparameters,
  type Unsubscribe,
  type WeightCommit,
} from '../types.ts';
import {
  adminSetCall,
  burnedRegisterCall,
  commitWeightsCall,
  registerNetworkCall,
  revealWeightsCall,
  serveAxonCall,
  setWeightsCall,
  stakeCall,
  transferCall,
  type CallContext,
} from './calls.ts';
import { acquireConnection, type Connection, type ConnectionOptions } from './connection.ts';
import { readHyperparameters } from './hyperparameters.ts';
import { decodeNeuronsLite, registerOpaqueNeuronType } from './neurons.ts';
import { buildCall, hasCall, MissingCallError, type CallSource } from './surface.ts';
import { Submitter, type Included, type SubmitOptions } from './tx.ts';

/** Gap blocks looked up per pipelined batch when finality jumps (see subscribeBlocks). */
const GAP_SLICE = 32;

type Tx = SubmittableExtrinsic<'promise'>;
type At = ApiDecoration<'promise'>;

export interface SubtensorChainOptions extends ConnectionOptions {
  /** Head that reads are pinned to (default `finalized`; `best` reads the tip, which can reorg). */
  readAt?: 'finalized' | 'best';
  /** Wait for finality after inclusion (default false: a best block is enough). */
  waitFinalized?: boolean;
  /** ms to wait for a transaction (default 60 000). */
  txTimeoutMs?: number;
  /** Sign mortal transactions (default true, 64 blocks); `false` signs immortal ones (dev nodes only). */
  mortal?: boolean;
  /** Dev chains only: the sudo key, used to wrap AdminUtils calls in `sudo.sudo`. */
  sudo?: Keypair;
  /** Called when a block subscription callback or a gap fill fails (default: ignored). */
  onError?: (e: Error) => void;
}

export class SubtensorChain implements Chain {
  readonly kind = 'subtensor' as const;
  private readonly submitter: Submitter;
  private opaqueNeuronType: string | null | undefined;
  private atCache: { hash: string; at: At } | null = null;

  private constructor(
    private readonly conn: Connection,
    private readonly opts: SubtensorChainOptions,
  ) {
    this.submitter = new Submitter(() => this.conn.api, opts.mortal ?? true);
  }

  static async connect(url: string, opts: SubtensorChainOptions = {}): Promise<SubtensorChain> {
    const conn = await acquireConnection(url, opts);
    return new SubtensorChain(conn, opts);
  }

  get api(): ApiPromise {
    return this.conn.api;
  }
  get url(): string {
    return this.conn.url;
  }
  get specVersion(): number {
    return this.api.runtimeVersion.specVersion.toNumber();
  }
  /** JSON-RPC requests sent on the shared connection so far. */
  rpcCount(): number {
    return this.conn.rpcCount();
  }
  /** Reconnects of the shared connection since it was first opened. */
  reconnects(): number {
    return this.conn.reconnects();
  }
  isConnected(): boolean {
    return this.conn.isConnected();
  }

  private ctx(): CallContext<Tx> {
    return { src: this.api.tx as unknown as CallSource<Tx>, specVersion: this.specVersion };
  }

  hasCall(pallet: string, call: string): boolean {
    return hasCall(this.api.tx as unknown as CallSource<Tx>, pallet, call);
  }

  /** The decoration for the pinned head (one per head hash, so a burst of reads shares it). */
  private async at(): Promise<{ at: At; hash: string }> {
    let hash = (this.opts.readAt === 'best' ? await this.api.rpc.chain.getBlockHash() : await this.api.rpc.chain.getFinalizedHead()).toHex();
    if (this.atCache?.hash !== hash) {
      let at: At;
      try {
        at = await this.api.at(hash);
      } catch {
        // a finalized hash that names no block (chopsticks from genesis before any finality): best head
        hash = (await this.api.rpc.chain.getBlockHash()).toHex();
        at = await this.api.at(hash);
      }
      this.atCache = { hash, at };
    }
    return this.atCache;
  }

  private sm(at: At): Record<string, ((...a: unknown[]) => Promise<Codec>) | undefined> {
    return at.query.subtensorModule as unknown as Record<string, ((...a: unknown[]) => Promise<Codec>) | undefined>;
  }

  private async storage(at: At, name: string, ...keys: unknown[]): Promise<Codec> {
    const fn = this.sm(at)[name];
    if (!fn) throw new MissingCallError(`storage SubtensorModule.${name}`, this.specVersion);
    return fn(...keys);
  }

  async getBlock(): Promise<BlockInfo> {
    const { at, hash } = await this.at();
    const [header, now] = await Promise.all([this.api.rpc.chain.getHeader(hash), at.query.timestamp.now()]);
    return { number: header.number.toNumber(), hash, timestamp: Number((now as unknown as { toBigInt(): bigint }).toBigInt()) };
  }

  /**
   * New heads (finalized by default, best with readAt 'best'), each number exactly once and in
   * order; gaps (finality jumps several blocks) are filled by hash lookups, at most 256 per jump.
   * Holds only the last number seen, so memory stays flat however long it runs.
   */
  subscribeBlocks(onBlock: (block: BlockInfo) => void): Unsubscribe {
    let last = -1;
    let stopped = false;
    let chain: Promise<void> = Promise.resolve();
    const onError = this.opts.onError ?? (() => undefined);
    const timestampAt = async (hash: string): Promise<number> => Number(((await this.api.query.timestamp.now.at(hash)) as unknown as { toBigInt(): bigint }).toBigInt());
    const handle = async (number: number, hash: string): Promise<void> => {
      if (stopped || number <= last) return;
      const from = last < 0 ? number : Math.max(last + 1, number - 256);
      // a gap's lookups go out together (pipelined on the one socket), in slices so a 256-block jump
      // after a reconnect costs ~2·256/32 round trips, not 512; blocks are still emitted in order
      for (let n = from; n < number && !stopped; n += GAP_SLICE) {
        const numbers = Array.from({ length: Math.min(GAP_SLICE, number - n) }, (_, i) => n + i);
        const hashes = await Promise.all(numbers.map(async (k) => (await this.api.rpc.chain.getBlockHash(k)).toHex()));
        const times = await Promise.all(hashes.map(timestampAt));
        for (let i = 0; i < numbers.length && !stopped; i++) {
          onBlock({ number: numbers[i]!, hash: hashes[i]!, timestamp: times[i]! });
          last = numbers[i]!; // a failed lookup later in the gap resumes after this block, never repeats it
        }
      }
      const timestamp = await timestampAt(hash);
      if (stopped) return;
      onBlock({ number, hash, timestamp });
      last = number;
    };
    const sub = this.opts.readAt === 'best' ? this.api.rpc.chain.subscribeNewHeads : this.api.rpc.chain.subscribeFinalizedHeads;
    let unsub: (() => void) | null = null;
    sub((h) => {
      const number = h.number.toNumber();
      const hash = h.hash.toHex();
      chain = chain.then(() => handle(number, hash)).catch((e: unknown) => onError(e as Error));
    })
      .then((u) => {
        unsub = u;
        if (stopped) u();
      })
      .catch((e: unknown) => onError(e as Error));
    return () => {
      stopped = true;
      unsub?.();
    };
  }

  async getBalance(coldkey: Ss58): Promise<bigint> {
    const { at } = await this.at();
    const acc = (await at.query.system.account(coldkey)) as unknown as { data: { free: { toBigInt(): bigint } } };
    return acc.data.free.toBigInt();
  }

  async subnetExists(netuid: number): Promise<boolean> {
    const { at } = await this.at();
    return (await this.storage(at, 'networksAdded', netuid)).toPrimitive() === true;
  }

  async getHyperparameters(netuid: number): Promise<SubnetHyperparameters> {
    const { at } = await this.at();
    if (!(await this.subnetExists(netuid))) throw new ChainError('SubnetNotExists', `subnet ${netuid} does not exist`);
    return readHyperparameters(at, netuid);
  }

  private opaqueType(): string | null {
    if (this.opaqueNeuronType !== undefined) return this.opaqueNeuronType;
    const latest = this.api.runtimeMetadata.asLatest as unknown as {
      apis?: Array<{ name: { toString(): string }; methods: Array<{ name: { toString(): string }; output: { toNumber(): number } }> }>;
    };
    const method = latest.apis?.find((a) => a.name.toString() === 'NeuronInfoRuntimeApi')?.methods.find((m) => m.name.toString() === 'get_neurons_lite');
    if (!method) throw new MissingCallError('runtime API NeuronInfoRuntimeApi.get_neurons_lite', this.specVersion);
    const out = this.api.registry.lookup.getTypeDef(method.output.toNumber());
    if (out.type === 'Vec<u8>' || out.type === 'Bytes') {
      const q = this.api.query.subtensorModule;
      const axonId = q.axons.creator.meta.type.asMap.value.toNumber();
      const promId = q.prometheus.creator.meta.type.asMap.value.toNumber();
      this.opaqueNeuronType = registerOpaqueNeuronType(this.api.registry, axonId, promId);
    } else this.opaqueNeuronType = null;
    return this.opaqueNeuronType;
  }

  /**
   * One runtime call for the neuron columns plus one batched storage read (registration blocks,
   * owner hotkey): a constant number of round trips whatever the subnet size.
   */
  async getMetagraph(netuid: number): Promise<Metagraph> {
    const { at, hash } = await this.at();
    const opaque = this.opaqueType();
    const call = (at.call as unknown as Record<string, Record<string, ((...a: unknown[]) => Promise<Codec>) | undefined> | undefined>).neuronInfoRuntimeApi?.getNeuronsLite;
    if (!call) throw new MissingCallError('runtime API NeuronInfoRuntimeApi.get_neurons_lite', this.specVersion);
    const [raw, header] = await Promise.all([call(netuid), this.api.rpc.chain.getHeader(hash)]);
    const neurons = decodeNeuronsLite(this.api.registry, raw, opaque).sort((a, b) => a.uid - b.uid);
    const n = neurons.length;
    const q = at.query.subtensorModule as unknown as Record<string, unknown>;
    const multi: Array<[unknown, unknown]> = neurons.map((x) => [q.blockAtRegistration, [netuid, x.uid]]);
    // dTAO runtimes (218+): a neuron's stake on this subnet is its alpha, TotalHotkeyAlpha(hotkey, netuid);
    // 218's NeuronInfoLite still reports the pre-dTAO per-coldkey TAO map, which staking no longer fills
    const alpha = q.totalHotkeyAlpha !== undefined;
    if (alpha) for (const x of neurons) multi.push([q.totalHotkeyAlpha, [x.hotkey, netuid]]);
    if (q.subnetOwnerHotkey) multi.push([q.subnetOwnerHotkey, netuid]);
    const values = multi.length ? await at.queryMulti(multi as Parameters<At['queryMulti']>[0]) : [];
    const ownerAt = alpha ? 2 * n : n;
    const ownerHotkey = q.subnetOwnerHotkey ? String((values[ownerAt] as Codec).toString()) : null;
    const stake = alpha ? neurons.map((_, i) => BigInt((values[n + i] as Codec).toString())) : neurons.map((x) => x.stake);
    return {
      netuid,
      block: header.number.toNumber(),
      n,
      ownerHotkey,
      hotkeys: neurons.map((x) => x.hotkey),
      coldkeys: neurons.map((x) => x.coldkey),
      stake,
      validatorPermit: neurons.map((x) => x.validatorPermit),
      active: neurons.map((x) => x.active),
      lastUpdate: neurons.map((x) => x.lastUpdate),
      blockAtRegistration: neurons.map((_, i) => Number((values[i] as Codec).toPrimitive())),
      axons: neurons.map((x) => x.axon),
      incentive: neurons.map((x) => x.incentive),
      dividends: neurons.map((x) => x.dividends),
      consensus: neurons.map((x) => x.consensus),
      validatorTrust: neurons.map((x) => x.validatorTrust),
      emission: neurons.map((x) => x.emission),
    };
  }

  async getUid(netuid: number, hotkey: Ss58): Promise<number | null> {
    const { at } = await this.at();
    const v = (await this.storage(at, 'uids', netuid, hotkey)).toPrimitive();
    return typeof v === 'number' ? v : null;
  }

  /** subtensor's `get_epoch_index`: (block + netuid + 1) / (tempo + 1). */
  async getEpochIndex(netuid: number): Promise<number> {
    const { at, hash } = await this.at();
    const [header, tempo] = await Promise.all([this.api.rpc.chain.getHeader(hash), this.storage(at, 'tempo', netuid)]);
    return Math.floor((header.number.toNumber() + netuid + 1) / (Number(tempo.toPrimitive()) + 1));
  }

  /** `WeightCommits`: `Option<(H256, u64)>` on 185, `VecDeque<(H256, commit, first, last)>` later. */
  async getWeightCommits(netuid: number, hotkey: Ss58): Promise<WeightCommit[]> {
    const { at } = await this.at();
    const [raw, tempo] = await Promise.all([this.storage(at, 'weightCommits', netuid, hotkey), this.storage(at, 'tempo', netuid)]);
    const t = Number(tempo.toPrimitive());
    const v = raw.toJSON() as unknown;
    if (v === null || v === undefined) return [];
    const rows = (Array.isArray(v) && typeof v[0] === 'string' ? [v] : (v as unknown[])) as Array<[string, number, ...number[]]>;
    return rows.map((r) => ({ hash: r[0], commitBlock: Number(r[1]), commitEpoch: Math.floor((Number(r[1]) + netuid + 1) / (t + 1)) }));
  }

  async getWeights(netuid: number, uid: number): Promise<Array<[number, number]>> {
    const { at } = await this.at();
    return (await this.storage(at, 'weights', netuid, uid)).toJSON() as Array<[number, number]>;
  }

  /** Sign with `signer` and wait (inclusion, or finality with waitFinalized). */
  async submit(signer: Keypair, tx: Tx, opts: SubmitOptions = {}): Promise<Included> {
    return this.submitter.submit(signer, tx, { finalized: this.opts.waitFinalized, timeoutMs: this.opts.txTimeoutMs, ...opts });
  }

  private event(inc: Included, method: string): Codec[] | null {
    const e = inc.events.find((r) => r.event.section === 'subtensorModule' && r.event.method === method);
    return e ? [...e.event.data] : null;
  }

  async registerNetwork(coldkey: Keypair, ownerHotkey: Ss58, hyperparameters?: Partial<SubnetHyperparameters>): Promise<number> {
    const inc = await this.submit(coldkey, registerNetworkCall(this.ctx(), ownerHotkey));
    const data = this.event(inc, 'NetworkAdded');
    if (!data) throw new ChainError('NoEvent', 'register_network was included but no NetworkAdded event was emitted');
    const netuid = Number(data[0].toPrimitive());
    if (hyperparameters && Object.keys(hyperparameters).length) await this.setHyperparameters(coldkey, netuid, hyperparameters);
    return netuid;
  }

  async burnedRegister(coldkey: Keypair, netuid: number, hotkey: Ss58): Promise<number> {
    const inc = await this.submit(coldkey, burnedRegisterCall(this.ctx(), netuid, hotkey));
    const data = this.event(inc, 'NeuronRegistered');
    if (!data) throw new ChainError('NoEvent', 'burned_register was included but no NeuronRegistered event was emitted');
    return Number(data[1].toPrimitive());
  }

  async serveAxon(hotkey: Keypair, netuid: number, axon: ServeAxonParams): Promise<void> {
    await this.submit(hotkey, serveAxonCall(this.ctx(), netuid, axon));
  }

  async addStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void> {
    await this.submit(coldkey, stakeCall(this.ctx(), 'add', hotkey, netuid, amount));
  }

  async removeStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void> {
    await this.submit(coldkey, stakeCall(this.ctx(), 'remove', hotkey, netuid, amount));
  }

  /** `opts.mechid` > 0 needs `set_mechanism_weights` in the runtime (381+). */
  async setWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], versionKey: bigint, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey, setWeightsCall(this.ctx(), netuid, uids, values, versionKey, opts.mechid ?? 0));
  }

  async commitWeights(hotkey: Keypair, netuid: number, commitHash: string, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey, commitWeightsCall(this.ctx(), netuid, commitHash, opts.mechid ?? 0));
  }

  async revealWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], salt: number[], versionKey: bigint, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey, revealWeightsCall(this.ctx(), netuid, uids, values, salt, versionKey, opts.mechid ?? 0));
  }

  async transfer(coldkey: Keypair, dest: Ss58, amount: bigint): Promise<void> {
    await this.submit(coldkey, transferCall(this.ctx(), dest, amount));
  }

  /** Root network (netuid 0) registration; on pre-dTAO runtimes root weights decide subnet emission. */
  async rootRegister(coldkey: Keypair, hotkey: Ss58): Promise<void> {
    await this.submit(coldkey, buildCall(this.ctx().src, this.specVersion, 'subtensor_module', 'root_register', { hotkey }));
  }

  async setRootWeights(coldkey: Keypair, hotkey: Ss58, netuids: number[], values: number[], versionKey = 0n): Promise<void> {
    const args = { netuid: 0, hotkey, dests: netuids, weights: values, version_key: versionKey };
    await this.submit(coldkey, buildCall(this.ctx().src, this.specVersion, 'subtensor_module', 'set_root_weights', args));
  }

  /**
   * AdminUtils `sudo_set_*` for each given hyperparameter, in one transaction. With the `sudo` option
   * (dev chains) they run as root inside `sudo.sudo(utility.batch_all(...))`; without it the subnet
   * owner's coldkey signs them directly, which real subtensor allows for the owner-settable ones.
   * With `asSudo` the signer is the sudo key itself.
   */
  async setHyperparameters(owner: Keypair, netuid: number, params: Partial<SubnetHyperparameters>, opts: { asSudo?: boolean } = {}): Promise<void> {
    const ctx = this.ctx();
    const q = this.api.query.subtensorModule as unknown as Record<string, unknown>;
    if (params.revealPeriodEpochs !== undefined && !q.revealPeriodEpochs && q.weightCommitRevealInterval) {
      // spec 185 counts the reveal interval in blocks: epochs × (tempo + 1), the inverse of the read side
      const tempo = params.tempo ?? (await this.getHyperparameters(netuid)).tempo;
      params = { ...params, revealPeriodEpochs: params.revealPeriodEpochs * (tempo + 1) };
    }
    const calls = Object.entries(params)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => adminSetCall(ctx, k as keyof SubnetHyperparameters, netuid, v));
    if (!calls.length) return;
    const one = calls.length === 1 ? calls[0] : buildCall(ctx.src, this.specVersion, 'utility', 'batch_all', { calls });
    // `asSudo`: the signer itself is the chain's sudo key (a dev chain's, from a wallet: `subnets set --as-sudo`)
    const sudoKey = opts.asSudo ? owner : this.opts.sudo;
    if (sudoKey) await this.submit(sudoKey, buildCall(ctx.src, this.specVersion, 'sudo', 'sudo', { call: one }));
    else await this.submit(owner, one);
  }

  /** Dev chains: any `pallet.call(args)` as root through `sudo.sudo` (e.g. global rate limits). */
  async sudo(pallet: string, call: string, args: Record<string, unknown>): Promise<Included> {
    if (!this.opts.sudo) throw new ChainError('NoSudoKey', 'this connection has no sudo key (dev chains only)');
    const ctx = this.ctx();
    return this.submit(this.opts.sudo, buildCall(ctx.src, this.specVersion, 'sudo', 'sudo', { call: buildCall(ctx.src, this.specVersion, pallet, call, args) }));
  }

  /** Dev chains: several root calls in one transaction (`sudo.sudo(utility.batch_all(...))`). */
  async sudoBatch(calls: Array<[pallet: string, call: string, args: Record<string, unknown>]>): Promise<Included> {
    if (!this.opts.sudo) throw new ChainError('NoSudoKey', 'this connection has no sudo key (dev chains only)');
    const ctx = this.ctx();
    const built = calls.map(([p, c, a]) => buildCall(ctx.src, this.specVersion, p, c, a));
    const batch = buildCall(ctx.src, this.specVersion, 'utility', 'batch_all', { calls: built });
    return this.submit(this.opts.sudo, buildCall(ctx.src, this.specVersion, 'sudo', 'sudo', { call: batch }));
  }

  async close(): Promise<void> {
    this.atCache = null;
    await this.conn.release();
  }
}
