import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { cryptoReady, sign, u8aToHex, type Keypair } from '../wallet/keypair.ts';
import { toJson, type ChainCall, type ChainEvent } from './codec.ts';
import {
  ChainError,
  type BlockInfo,
  type DevChain,
  type EpochSchedule,
  type MechanismOption,
  type Metagraph,
  type ServeAxonParams,
  type Ss58,
  type SubnetHyperparameters,
  type Unsubscribe,
  type WeightCommit,
} from './types.ts';
import {
  SIGNING_CONTEXT,
  infoSchema,
  readMethods,
  responseBodySchema,
  serverMessageSchema,
  type LocalnetInfo,
  type ReadMethod,
} from './wire.ts';

export interface LocalnetClientOptions {
  /** Per-request timeout, ms (default 10 000). */
  timeoutMs?: number;
  /** Largest WebSocket reconnect back-off, ms (default 5 000). */
  maxReconnectDelayMs?: number;
}

/** `http://host:port` for RPC and `ws://host:port/ws` for subscriptions, from either form. */
export function localnetUrls(spec: string): { http: string; ws: string } {
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new UserError(`invalid localnet URL '${spec}'`, { hint: 'use http://127.0.0.1:9944 or ws://127.0.0.1:9944' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'ws:') throw new UserError(`unsupported localnet URL scheme '${u.protocol}'`);
  return { http: `http://${u.host}`, ws: `ws://${u.host}/ws` };
}

/**
 * The localnet server's client: the same Chain/DevChain interface as LocalChain, over HTTP + WebSocket.
 * Writes are signed here (sr25519 over the exact payload string); secret keys never leave the process.
 */
export class LocalnetClient implements DevChain {
  readonly kind = 'localnet' as const;
  readonly url: string;
  readonly info: LocalnetInfo;
  private readonly wsUrl: string;
  private readonly timeoutMs: number;
  private readonly maxDelay: number;
  private ws: WebSocket | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = 250;
  private lastBlock = -1;
  private closed = false;
  private readonly blockListeners = new Set<(b: BlockInfo) => void>();
  private readonly eventListeners = new Set<(e: ChainEvent) => void>();

  private constructor(urls: { http: string; ws: string }, info: LocalnetInfo, opts: LocalnetClientOptions) {
    this.url = urls.http;
    this.wsUrl = urls.ws;
    this.info = info;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxDelay = opts.maxReconnectDelayMs ?? 5000;
  }

  /** Connect (fetches /info for the genesis hash that every signed write commits to). */
  static async connect(spec: string, opts: LocalnetClientOptions = {}): Promise<LocalnetClient> {
    await cryptoReady();
    const urls = localnetUrls(spec);
    let res: Response;
    try {
      res = await fetch(`${urls.http}/info`, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    } catch (e) {
      throw new UserError(`cannot reach the localnet at ${urls.http}: ${(e as Error).message}`, { hint: 'start one with `subnet localnet`' });
    }
    const info = infoSchema.safeParse(await res.json().catch(() => null));
    if (!res.ok || !info.success) throw new UserError(`${urls.http} does not look like a subnetkit localnet (bad /info response)`);
    return new LocalnetClient(urls, info.data, opts);
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: toJson(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new ChainError('Unavailable', `localnet ${this.url}: ${(e as Error).message}`);
    }
    const parsed = responseBodySchema.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new ChainError('InvalidResponse', `localnet ${this.url}${path}: HTTP ${res.status}`);
    if (!parsed.data.ok) throw new ChainError(parsed.data.error.code, stripCode(parsed.data.error.code, parsed.data.error.message));
    return parsed.data.result;
  }

  private async read<M extends ReadMethod>(method: M, params: Record<string, unknown>): Promise<z.output<(typeof readMethods)[M]['result']>> {
    const raw = await this.post('/read', { method, params });
    const parsed = readMethods[method].result.safeParse(raw);
    if (!parsed.success) throw new ChainError('InvalidResponse', `${method}: ${parsed.error.issues[0]?.message ?? 'bad result'}`);
    return parsed.data as z.output<(typeof readMethods)[M]['result']>;
  }

  /** Sign and submit a call; returns the call's result (netuid or uid for registrations). */
  async submit(signer: Keypair, call: ChainCall): Promise<number | null> {
    const payload = toJson({
      genesisHash: this.info.genesisHash,
      call: call.call,
      args: call.args,
      nonce: randomBytes(16).toString('hex'),
      timestamp: Date.now(),
    });
    const signature = u8aToHex(sign(signer, SIGNING_CONTEXT + payload));
    const result = await this.post('/submit', { payload, signature, signer: signer.ss58Address });
    return typeof result === 'number' ? result : null;
  }

  // ---- subscriptions ----

  subscribeBlocks(onBlock: (block: BlockInfo) => void): Unsubscribe {
    this.blockListeners.add(onBlock);
    this.ensureSocket();
    return () => {
      this.blockListeners.delete(onBlock);
      this.maybeDropSocket();
    };
  }

  subscribeEvents(onEvent: (event: ChainEvent) => void): Unsubscribe {
    this.eventListeners.add(onEvent);
    this.ensureSocket();
    return () => {
      this.eventListeners.delete(onEvent);
      this.maybeDropSocket();
    };
  }

  private ensureSocket(): void {
    if (this.closed || this.ws || this.reconnectTimer) return;
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    ws.on('open', () => {
      this.reconnectDelay = 250;
      // Resume after the last block we delivered; the server replays what it still has.
      ws.send(JSON.stringify(this.lastBlock >= 0 ? { type: 'subscribe', fromBlock: this.lastBlock + 1 } : { type: 'subscribe' }));
    });
    ws.on('message', (data) => this.onMessage(String(data)));
    ws.on('error', () => {
      /* 'close' follows and schedules the reconnect */
    });
    ws.on('close', () => {
      if (this.ws === ws) this.ws = null;
      if (this.closed || !this.hasListeners()) return;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.ensureSocket();
      }, this.reconnectDelay);
      this.reconnectDelay = Math.min(this.maxDelay, this.reconnectDelay * 2);
    });
  }

  private onMessage(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    const msg = serverMessageSchema.safeParse(json);
    if (!msg.success) return;
    if (msg.data.type === 'block') {
      const block = msg.data.block;
      if (block.number <= this.lastBlock) return; // duplicates after a reconnect
      this.lastBlock = block.number;
      for (const l of this.blockListeners) guard(() => l(block));
    } else {
      const event = msg.data.event;
      for (const l of this.eventListeners) guard(() => l(event));
    }
  }

  private hasListeners(): boolean {
    return this.blockListeners.size + this.eventListeners.size > 0;
  }

  private maybeDropSocket(): void {
    if (this.hasListeners()) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.ws?.close();
    this.ws = null;
  }

  // ---- reads ----

  getBlock(): Promise<BlockInfo> {
    return this.read('getBlock', {});
  }
  getBalance(coldkey: Ss58): Promise<bigint> {
    return this.read('getBalance', { coldkey });
  }
  subnetExists(netuid: number): Promise<boolean> {
    return this.read('subnetExists', { netuid });
  }
  listSubnets(): Promise<number[]> {
    return this.read('listSubnets', {});
  }
  getHyperparameters(netuid: number): Promise<SubnetHyperparameters> {
    return this.read('getHyperparameters', { netuid });
  }
  getMetagraph(netuid: number, opts: MechanismOption = {}): Promise<Metagraph> {
    return this.read('getMetagraph', { netuid, ...mech(opts) });
  }
  getUid(netuid: number, hotkey: Ss58): Promise<number | null> {
    return this.read('getUid', { netuid, hotkey });
  }
  getEpochIndex(netuid: number): Promise<number> {
    return this.read('getEpochIndex', { netuid });
  }
  getWeightCommits(netuid: number, hotkey: Ss58, opts: MechanismOption = {}): Promise<WeightCommit[]> {
    return this.read('getWeightCommits', { netuid, hotkey, ...mech(opts) });
  }
  getWeights(netuid: number, uid: number, opts: MechanismOption = {}): Promise<Array<[number, number]>> {
    return this.read('getWeights', { netuid, uid, ...mech(opts) });
  }
  getEpochSchedule(netuid: number): Promise<EpochSchedule> {
    return this.read('getEpochSchedule', { netuid });
  }
  getStake(netuid: number, hotkey: Ss58, coldkey: Ss58): Promise<bigint> {
    return this.read('getStake', { netuid, hotkey, coldkey });
  }

  // ---- writes ----

  async registerNetwork(coldkey: Keypair, ownerHotkey: Ss58, hyperparameters?: Partial<SubnetHyperparameters>): Promise<number> {
    return (await this.submit(coldkey, { call: 'registerNetwork', args: hyperparameters ? { ownerHotkey, hyperparameters } : { ownerHotkey } }))!;
  }
  async burnedRegister(coldkey: Keypair, netuid: number, hotkey: Ss58): Promise<number> {
    return (await this.submit(coldkey, { call: 'burnedRegister', args: { netuid, hotkey } }))!;
  }
  async serveAxon(hotkey: Keypair, netuid: number, axon: ServeAxonParams): Promise<void> {
    await this.submit(hotkey, { call: 'serveAxon', args: { netuid, axon } });
  }
  async addStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void> {
    await this.submit(coldkey, { call: 'addStake', args: { hotkey, netuid, amount } });
  }
  async removeStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void> {
    await this.submit(coldkey, { call: 'removeStake', args: { hotkey, netuid, amount } });
  }
  async transfer(coldkey: Keypair, dest: Ss58, amount: bigint): Promise<void> {
    await this.submit(coldkey, { call: 'transfer', args: { dest, amount } });
  }
  async setWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], versionKey: bigint, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey, { call: 'setWeights', args: { netuid, ...mech(opts), uids, values, versionKey } });
  }
  async commitWeights(hotkey: Keypair, netuid: number, commitHash: string, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey, { call: 'commitWeights', args: { netuid, ...mech(opts), commitHash } });
  }
  async revealWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], salt: number[], versionKey: bigint, opts: MechanismOption = {}): Promise<void> {
    await this.submit(hotkey, { call: 'revealWeights', args: { netuid, ...mech(opts), uids, values, salt, versionKey } });
  }
  async startCall(coldkey: Keypair, netuid: number): Promise<void> {
    await this.submit(coldkey, { call: 'startCall', args: { netuid } });
  }
  async setTempo(coldkey: Keypair, netuid: number, tempo: number): Promise<void> {
    await this.submit(coldkey, { call: 'setTempo', args: { netuid, tempo } });
  }
  async triggerEpoch(coldkey: Keypair, netuid: number): Promise<void> {
    await this.submit(coldkey, { call: 'triggerEpoch', args: { netuid } });
  }
  async setMechanismCount(coldkey: Keypair, netuid: number, count: number): Promise<void> {
    await this.submit(coldkey, { call: 'setMechanismCount', args: { netuid, count } });
  }
  async setMechanismEmissionSplit(coldkey: Keypair, netuid: number, split: number[] | null): Promise<void> {
    await this.submit(coldkey, { call: 'setMechanismEmissionSplit', args: { netuid, split } });
  }
  async setHyperparameters(owner: Keypair, netuid: number, params: Partial<SubnetHyperparameters>): Promise<void> {
    await this.submit(owner, { call: 'setHyperparameters', args: { netuid, params } });
  }
  async faucet(coldkey: Ss58, amount: bigint): Promise<void> {
    await this.post('/faucet', { coldkey, amount });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.blockListeners.clear();
    this.eventListeners.clear();
    this.maybeDropSocket();
  }
}

/** `mechid` travels only when it selects a mechanism other than 0. */
function mech(opts: MechanismOption): { mechid?: number } {
  return opts.mechid ? { mechid: opts.mechid } : {};
}

/** A throwing subscriber must not break delivery to the others. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    process.stderr.write(`localnet client: subscriber failed: ${(e as Error).message}\n`);
  }
}

/** ChainError prefixes the code itself; avoid "Code: Code: …". */
function stripCode(code: string, message: string): string | undefined {
  const rest = message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message === code ? '' : message;
  return rest || undefined;
}
