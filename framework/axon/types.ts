import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServeAxonParams } from '../chain/types.ts';
import type { RequestOf, ResponseOf, SynapseDef } from '../protocol/synapse.ts';
import type { Keypair } from '../wallet/keypair.ts';

/** What the chain knows about a caller hotkey on this subnet. */
export interface CallerInfo {
  uid: number;
  stake: bigint;
  validatorPermit: boolean;
}

/** Injected source of caller registration/stake (a metagraph snapshot, LocalChain, …). Must be fast and synchronous. */
export interface CallerInfoProvider {
  lookup(hotkey: string): CallerInfo | undefined;
}

export interface HandlerContext {
  caller: { hotkey: string; uid: number | null; stake: bigint; validatorPermit: boolean };
  synapse: string;
  /** Date.now()-based ms after which the caller has given up. */
  deadline: number;
  /** Aborted when the deadline passes or the axon stops. */
  signal: AbortSignal;
}

export type Handler<S extends SynapseDef> = (
  request: RequestOf<S>,
  ctx: HandlerContext,
) => Promise<ResponseOf<S>> | ResponseOf<S> | AsyncIterable<string | Uint8Array>;

export interface AttachOptions {
  /** Per-synapse blacklist replacing the axon-wide policy: a reason string rejects (403), null accepts. */
  blacklist?: (ctx: HandlerContext) => string | null | Promise<string | null>;
  /** Per-synapse admission priority (higher runs first); default is the caller's stake. */
  priority?: (ctx: HandlerContext) => number;
}

export interface BlacklistPolicy {
  /** Accept hotkeys not registered on the subnet (default false). */
  allowUnregistered?: boolean;
  requireValidatorPermit?: boolean;
  /** Minimum stake in RAO. */
  minStake?: bigint;
  /** Hotkeys accepted regardless of the other rules. */
  allowList?: string[];
}

export interface AxonOptions {
  keypair: Keypair;
  callers: CallerInfoProvider;
  /** Bind address (default 0.0.0.0). */
  host?: string;
  /** Bind port (default 8091; 0 = ephemeral). */
  port?: number;
  /** Advertised on chain (default: host, or 0.0.0.0 → must be set for a real deployment). */
  externalIp?: string;
  externalPort?: number;
  blacklist?: BlacklistPolicy;
  admission?: { maxConcurrent?: number; maxQueue?: number };
  rateLimit?: { perSecond: number; burst: number } | false;
  bodyLimitBytes?: number;
  maxTimeoutMs?: number;
  logger?: Logger;
  metricsRegistry?: Registry;
  /** Nonce memory bounds (additive to the shared contract). */
  nonce?: { capacity?: number; maxFutureMs?: number; reorderWindowMs?: number };
  /** On stop(), how long running handlers may finish before their signals are aborted (default 5 000 ms). */
  stopGraceMs?: number;
  /** Sign the axon's own TerminalInfo stamp on every response, like the SDK (costs one sr25519 sign per request). */
  signResponses?: boolean;
}

export interface Axon {
  attach<S extends SynapseDef>(synapse: S, handler: Handler<S>, opts?: AttachOptions): Axon;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Bound port (the ephemeral one when started with port 0). */
  readonly port: number;
  readonly hotkey: string;
  info(): ServeAxonParams;
  readonly metrics: Registry;
}
