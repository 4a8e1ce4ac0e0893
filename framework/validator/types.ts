import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Chain } from '../chain/types.ts';
import type { Commodity } from '../commodity/define.ts';
import type { PendingStore } from '../commodity/pending.ts';
import type { RequestOf, ResponseOf, SynapseDef } from '../protocol/synapse.ts';
import type { Keypair } from '../wallet/keypair.ts';
import type { WeightsSemantics } from '../consensus/weights/v11.ts';

export interface AxonTargetLike {
  ip: string;
  port: number;
  hotkey: string;
}

export interface DendriteResponseLike<R> {
  target: AxonTargetLike;
  ok: boolean;
  statusCode: number;
  statusMessage: string | null;
  response: R | null;
  roundTripMs: number;
}

export interface StreamChunkLike {
  data: string;
  /** performance.now()-based ms. */
  receivedAt: number;
}

export interface StreamResultLike<R> extends DendriteResponseLike<R> {
  chunks: StreamChunkLike[];
  timeToFirstChunkMs: number | null;
  chunksPerSecond: number | null;
}

/** The part of framework/dendrite the validator uses (structural, so tests and adapters can pass their own). */
export interface DendriteLike {
  forward<S extends SynapseDef>(
    targets: AxonTargetLike[],
    synapse: S,
    request: RequestOf<S> | ((target: AxonTargetLike, index: number) => RequestOf<S>),
    opts: { timeoutMs: number; concurrency?: number },
  ): Promise<Array<DendriteResponseLike<ResponseOf<S>>>>;
  /** Needed for streaming commodities only. */
  stream?<S extends SynapseDef>(target: AxonTargetLike, synapse: S, request: RequestOf<S>, opts: { timeoutMs?: number; framing?: 'raw' | 'sse' }): Promise<StreamResultLike<ResponseOf<S>>>;
  close(): Promise<void>;
}

export interface ValidatorOptions {
  /** EMA alpha for the default aggregation (default 0.1, as the template). */
  alpha?: number;
  /** Resync the metagraph and hyperparameters every N blocks (default 10). */
  resyncEveryBlocks?: number;
  /** Rounds in flight at once (default 1). */
  concurrency?: number;
  /** Minimum ms between the starts of two rounds in one slot (default 1000). */
  roundIntervalMs?: number;
  /** Extra spacing between weight submissions, in blocks, on top of the chain's rate limit (default 0). */
  weightsEveryBlocks?: number;
  /** Never submit weights (observer mode). */
  disableWeights?: boolean;
  /**
   * Which SDK's weight pipeline to reproduce (docs/weights.md): 'v10' (default: process_weights_for_netuid,
   * pads to MinAllowedWeights so a round never fails) or 'v11' (SetWeights: no padding, no quantile; a round
   * with too few scored miners is skipped with a warning).
   */
  weightsSemantics?: WeightsSemantics;
  /** Weights version key; default the commodity's `version`. */
  versionKey?: bigint;
  /** 32-byte secret for task seeds; default: random on first start, then persisted. */
  secret?: Uint8Array;
  /** Parallel queries per round (default 32). */
  queryConcurrency?: number;
  /** Give up on a delayed task after this many failed or deferred scoring attempts (default 50). */
  maxScoreAttempts?: number;
  /** Blocks to wait before retrying a delayed task whose scorer threw (default 5). */
  retryDelayBlocks?: number;
  /** Say once when no block has arrived for this long, and again when blocks resume (ms; default 60 000). */
  chainStallMs?: number;
  /** Default: file store at `<statePath>/pending.json`. */
  pendingStore?: PendingStore;
  logger?: Logger;
  metricsRegistry?: Registry;
}

export interface StartValidatorParams<C extends Commodity> {
  chain: Chain;
  netuid: number;
  hotkey: Keypair;
  commodity: C;
  /**
   * Incentive mechanism whose weights this commodity sets (default 0). To price several commodities
   * in one process use `startMechanismValidators`.
   */
  mechid?: number;
  /** Directory for `validator.json` and `pending.json`. */
  statePath: string;
  /** Default: a new framework Dendrite signed by `hotkey`, closed on stop. */
  dendrite?: DendriteLike;
  options?: ValidatorOptions;
}

/** Read-only view of the validator's live state. */
export interface ValidatorStateView {
  readonly step: number;
  readonly uid: number | null;
  readonly lastWeightsBlock: number;
  /** Aggregated score by hotkey. */
  scores(): Record<string, number>;
  /** Scores by uid for the current metagraph (NaN = never scored). */
  scoresByUid(): number[];
  pendingCount(): Promise<number>;
  /** Resolves when the next weight submission attempt (set, commit or reveal) finishes. */
  nextWeightsAttempt(): Promise<'set' | 'committed' | 'revealed' | 'rate_limited' | 'skipped' | 'expired' | 'error'>;
}

export interface ValidatorHandle {
  stop(): Promise<void>;
  state: ValidatorStateView;
  metrics: Registry;
}
