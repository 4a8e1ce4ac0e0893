import { z } from 'zod';
import type { HandlerContext } from '../axon/types.ts';
import type { BlockInfo, Metagraph } from '../chain/types.ts';
import { resolveWire, type Wire, type WireProtocol } from '../btauth/wire.ts';
import { defineSynapse, type SynapseDef } from '../protocol/synapse.ts';
import type { MinerStateAccess, MinerStateDef } from './miner-state.ts';
import type { ResolveAt } from './pending.ts';
import type { SeededRng } from './rng.ts';
import { normalize, type WeightTransform } from './transforms.ts';

/** Everything a task generator may look at. `rng` is seeded from HMAC(secret, blockHash ‖ round). */
export interface TaskContext<S> {
  round: number;
  block: BlockInfo;
  metagraph: Metagraph;
  rng: SeededRng;
  validatorHotkey: string;
  now: number;
  state: MinerStateAccess<S>;
  /** The default sampler over this metagraph (serving, non-validator, k without replacement). */
  sample(k?: number, filter?: (uid: number) => boolean): number[];
}

export interface MinerTarget {
  uid: number;
  hotkey: string;
}

/** One task: what to send, what the validator keeps to itself, who to ask, when to score. */
export interface TaskSpec<Q, D> {
  /** One query for all targets, or one per target (e.g. a challenge for the object that miner holds). */
  query: Q | ((target: MinerTarget) => Q);
  /** Validator-only data for scoring (expected answer, Merkle root, event id); never sent to miners. */
  data: D;
  /** Explicit targets; default: the sampler picks `sampleSize` miners. */
  uids?: number[];
  /** Score later (block and/or unix-ms time); omitted = score as soon as the answers are in. */
  resolveAt?: ResolveAt;
  timeoutMs?: number;
}

/** Streaming telemetry (streaming commodities only): every chunk with its arrival time. */
export interface StreamTelemetry {
  /** Chunks with performance.now()-based arrival times (ms). */
  chunks: Array<{ data: string; receivedAt: number }>;
  timeToFirstChunkMs: number | null;
  chunksPerSecond: number | null;
}

/** One miner's answer as the scorer sees it. `ok` is false for timeouts, errors and schema-invalid responses. */
export interface MinerAnswer<Q, R> {
  uid: number;
  hotkey: string;
  ok: boolean;
  statusCode: number;
  statusMessage: string | null;
  latencyMs: number;
  query: Q;
  response: R | null;
  /** Present for streaming commodities. */
  stream?: StreamTelemetry;
}

export interface ScoredTask<D> {
  id: string;
  round: number;
  createdBlock: number;
  createdAt: number;
  data: D;
  resolveAt?: ResolveAt;
  /** How many times scoring this task already threw (deferrals via retryLater do not count). */
  attempts: number;
}

export interface ScoreInput<Q, R, D, S> {
  task: ScoredTask<D>;
  answers: MinerAnswer<Q, R>[];
  block: BlockInfo;
  now: number;
  metagraph: Metagraph;
  state: MinerStateAccess<S>;
}

/** Returned by `score` when the outcome is not known yet (event unresolved, oracle lagging). */
export class RetryLater {
  constructor(readonly at: ResolveAt) {}
}
export const retryLater = (at: ResolveAt): RetryLater => new RetryLater(at);

/** Rewards by hotkey. Hotkeys left out are not updated: a validator-side problem never costs a miner. */
export type Rewards = Record<string, number>;

export interface AggregateInput<S> {
  previous: number | undefined;
  reward: number;
  hotkey: string;
  state: S;
  /** The validator's configured EMA alpha. */
  alpha: number;
}

/** What the miner's handler receives besides the query: the axon's context (caller, deadline, abort signal). */
export type MinerCallContext = HandlerContext;

/** Miner side of a commodity: answer queries, optionally gate and order callers. */
export interface MinerSide<Q, R> {
  /** Return the response, or (streaming synapses) an async iterable of chunks. */
  handle(query: Q, ctx: MinerCallContext): R | Promise<R> | AsyncIterable<string | Uint8Array>;
  /** Return a reason string to reject the caller, or null to accept. Runs after the runtime's registration check. */
  blacklist?(ctx: MinerCallContext): string | null | Promise<string | null>;
  /** Higher is served first; default: caller stake. */
  priority?(ctx: MinerCallContext): number;
}

export interface CommodityDef<Req extends z.ZodRawShape, Res extends z.ZodRawShape, D, S> {
  /** Synapse name (Python class name on the wire), e.g. `PuzzleSynapse`. */
  name: string;
  query: z.ZodObject<Req>;
  response: z.ZodObject<Res>;
  requiredHashFields?: readonly (keyof Req & string)[];
  streaming?: boolean;
  /** How streamed bodies are cut into chunks: `raw` (one per network read, the SDK's behaviour) or `sse` events. */
  streamFraming?: 'raw' | 'sse';
  /** Per-query timeout, ms. */
  timeoutMs: number;
  /**
   * Wire between validators and miners: `btauth` (default; btauth/1 of SDK v11, `POST <route>` with a JSON
   * body) or `synapse` (the v10 Synapse wire, for subnets pinned to SDK v10). Miners serve both on one port.
   */
  protocol?: WireProtocol;
  /** btauth/1 route path (default `/<name>`). */
  route?: string;
  /** Weights version key (`spec_version`). */
  version?: number;
  /** Miners asked per task by the default sampler. */
  sampleSize?: number;
  /** Schema of the validator-only task data (validated when a delayed task is reloaded). */
  taskData?: z.ZodType<D>;
  minerState?: MinerStateDef<S>;
  generate(ctx: TaskContext<S>): TaskSpec<z.infer<z.ZodObject<Req>>, D> | TaskSpec<z.infer<z.ZodObject<Req>>, D>[] | null | Promise<TaskSpec<z.infer<z.ZodObject<Req>>, D> | TaskSpec<z.infer<z.ZodObject<Req>>, D>[] | null>;
  score(input: ScoreInput<z.infer<z.ZodObject<Req>>, z.infer<z.ZodObject<Res>>, D, S>): Rewards | RetryLater | Promise<Rewards | RetryLater>;
  /** Per-hotkey score update; default EMA with the validator's alpha. */
  aggregate?(input: AggregateInput<S>): number;
  /** Scores (per uid) → weights; default `normalize()`. */
  toWeights?: WeightTransform;
  miner?: MinerSide<z.infer<z.ZodObject<Req>>, z.infer<z.ZodObject<Res>>>;
}

/** A defined commodity: the definition with defaults filled in, plus its SynapseDef. */
export interface Commodity<Req extends z.ZodRawShape = z.ZodRawShape, Res extends z.ZodRawShape = z.ZodRawShape, D = unknown, S = unknown>
  extends CommodityDef<Req, Res, D, S> {
  /** The wire types, carrying the wire choice (`synapse.wire`) so the dendrite speaks the chosen protocol. */
  readonly synapse: SynapseDef<Req, Res> & { readonly wire: Wire };
  readonly wire: Wire;
  readonly version: number;
  readonly sampleSize: number;
  readonly taskData: z.ZodType<D>;
  readonly minerState: MinerStateDef<S>;
  readonly toWeights: WeightTransform;
}

export type QueryOf<C extends Commodity> = z.infer<C['query']>;
export type ResponseOfCommodity<C extends Commodity> = z.infer<C['response']>;

/**
 * Define a commodity: the wire types (zod, checked on both sides), the validator's task generator and
 * scorer, optional per-miner state and delayed scoring, and optionally the miner's handler.
 */
export function defineCommodity<Req extends z.ZodRawShape, Res extends z.ZodRawShape, D = undefined, S = Record<string, never>>(
  def: CommodityDef<Req, Res, D, S>,
): Commodity<Req, Res, D, S> {
  if (!(def.timeoutMs > 0)) throw new Error(`commodity ${def.name}: timeoutMs must be > 0`);
  const wire = Object.freeze(resolveWire(def.name, def.protocol, def.route));
  const synapse = Object.freeze({
    ...defineSynapse({
      name: def.name,
      request: def.query,
      response: def.response,
      requiredHashFields: def.requiredHashFields,
      streaming: def.streaming,
    }),
    wire,
  });
  return Object.freeze({
    ...def,
    synapse,
    wire,
    version: def.version ?? 0,
    sampleSize: def.sampleSize ?? 16,
    taskData: def.taskData ?? (z.unknown() as z.ZodType<D>),
    minerState: def.minerState ?? ({ schema: z.object({}).strict(), initial: () => ({}) } as unknown as MinerStateDef<S>),
    toWeights: def.toWeights ?? normalize(),
  });
}
