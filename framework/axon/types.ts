import type { RateLimitStore } from './redis-rate-limit.ts';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServeAxonParams } from '../chain/types.ts';
import type { RequestOf, ResponseOf, SynapseDef } from '../protocol/synapse.ts';
import type { Keypair } from '../wallet/keypair.ts';
import type { AxonBtauthOptions, AxonProtocols } from './btauth-options.ts';

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
  /** btauth/1 route for this synapse (default `/<name>`; the v10 wire always uses `/<name>`). */
  path?: string;
  /** btauth/1 requests carry no timeout: the handler's deadline (default 12 000 ms, capped by maxTimeoutMs). */
  timeoutMs?: number;
  /**
   * btauth/1 streams: `raw` (default) sends each chunk the handler yields as one SSE event; `sse` means the
   * handler yields SSE text itself (a commodity with `streamFraming: 'sse'`), sent as is.
   */
  streamFraming?: 'raw' | 'sse';
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
  admission?: {
    maxConcurrent?: number;
    maxQueue?: number;
    /** Handlers one caller may run at once (default maxConcurrent / 4, at least 1). */
    maxPerCaller?: number;
    /** Handlers all low-stake callers may run together (default maxConcurrent − maxConcurrent / 4): the rest stay free for staked callers. */
    lowStakeMaxConcurrent?: number;
    /** Stake (RAO) below which a caller is low-stake (default 1 TAO); unregistered callers are low-stake. */
    lowStakeRao?: bigint | number;
  };
  /** Whole request (headers + body) must arrive within this, ms (default 30 000): a slow body gets 408 and is closed. */
  requestTimeoutMs?: number;
  /** Headers must arrive within this, ms (default 10 000). */
  headersTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this, ms (default 5 000). */
  keepAliveTimeoutMs?: number;
  /** Largest total request header size, bytes (default 16 KiB; larger → 431). */
  maxHeaderBytes?: number;
  /** Request-body bytes held at once (read, queued for admission or in a handler), checked before reading. */
  inflight?: { maxBytes?: number; maxBytesPerCaller?: number };
  /**
   * Per caller hotkey token bucket (default 50/s, burst 100; false: none). With `store` (a RedisRateLimitStore)
   * the buckets are shared by every process serving this hotkey on that store; while it is unreachable each
   * process limits on its own (fail-open, see docs/scale.md).
   */
  rateLimit?: { perSecond: number; burst: number; store?: RateLimitStore } | false;
  bodyLimitBytes?: number;
  maxTimeoutMs?: number;
  logger?: Logger;
  metricsRegistry?: Registry;
  /**
   * Also answer `GET /metrics` on this (public) port, to these peers only (IPs or CIDR ranges). Default: not
   * served here, the port answers 404; serve `metrics` on a loopback port with serveMetrics instead.
   */
  metricsAllow?: readonly string[];
  /** Nonce memory bounds (additive to the shared contract). */
  nonce?: { capacity?: number; maxFutureMs?: number; reorderWindowMs?: number };
  /** On stop(), how long running handlers may finish before their signals are aborted (default 5 000 ms). */
  stopGraceMs?: number;
  /** Sign the axon's own TerminalInfo stamp on every response, like the SDK (costs one sr25519 sign per request). */
  signResponses?: boolean;
  /** btauth/1: unbound requests, freshness window, trusted schemes, replay store. */
  btauth?: AxonBtauthOptions;
  /** Wires served on the port (default both: btauth/1, and the v10 Synapse wire for requests with bt_header_* headers). */
  protocols?: AxonProtocols;
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
