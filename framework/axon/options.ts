import { isIP } from 'node:net';
import { z } from 'zod';
import { describeZodError, UserError } from '../errors.ts';
import type { RateLimitStore } from './redis-rate-limit.ts';
import type { AxonOptions } from './types.ts';

export const AXON_DEFAULTS = {
  host: '0.0.0.0',
  port: 8091,
  maxConcurrent: 32,
  maxQueue: 256,
  rateLimit: { perSecond: 50, burst: 100 },
  bodyLimitBytes: 10 * 1024 * 1024,
  maxTimeoutMs: 60_000,
  nonceCapacity: 100_000,
  maxFutureMs: 5_000,
  reorderWindowMs: 0,
  stopGraceMs: 5_000,
  /** Callers with less stake (RAO) count as low-stake for admission (1 TAO). */
  lowStakeRao: 1_000_000_000n,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
  maxInFlightBytes: 64 * 1024 * 1024,
} as const;

/** Derived defaults: a quarter of the slots per caller, three quarters for low-stake callers together. */
export function defaultMaxPerCaller(maxConcurrent: number): number {
  return Math.max(1, Math.floor(maxConcurrent / 4));
}
export function defaultLowStakeMaxConcurrent(maxConcurrent: number): number {
  return Math.max(1, maxConcurrent - Math.floor(maxConcurrent / 4));
}

const schema = z.object({
  host: z.string().min(1).default(AXON_DEFAULTS.host),
  port: z.number().int().min(0).max(65535).default(AXON_DEFAULTS.port),
  externalIp: z.string().refine((ip) => isIP(ip) !== 0, 'must be an IPv4 or IPv6 address').optional(),
  externalPort: z.number().int().min(1).max(65535).optional(),
  admission: z
    .object({
      maxConcurrent: z.number().int().min(1).default(AXON_DEFAULTS.maxConcurrent),
      maxQueue: z.number().int().min(0).default(AXON_DEFAULTS.maxQueue),
      maxPerCaller: z.number().int().min(1).optional(),
      lowStakeMaxConcurrent: z.number().int().min(1).optional(),
      lowStakeRao: z.union([z.bigint().nonnegative(), z.number().int().nonnegative().transform(BigInt)]).default(AXON_DEFAULTS.lowStakeRao),
    })
    .default({})
    .transform((a) => ({
      ...a,
      maxPerCaller: a.maxPerCaller ?? defaultMaxPerCaller(a.maxConcurrent),
      lowStakeMaxConcurrent: a.lowStakeMaxConcurrent ?? defaultLowStakeMaxConcurrent(a.maxConcurrent),
    })),
  rateLimit: z
    .union([
      z.literal(false),
      z.object({
        perSecond: z.number().positive().max(1_000_000),
        burst: z.number().min(1).max(1_000_000),
        store: z.custom<RateLimitStore>((s) => typeof s === 'object' && s !== null && typeof (s as RateLimitStore).take === 'function', 'must be a RateLimitStore').optional(),
      }),
    ])
    .default(AXON_DEFAULTS.rateLimit),
  bodyLimitBytes: z.number().int().min(1024).default(AXON_DEFAULTS.bodyLimitBytes),
  maxTimeoutMs: z.number().positive().max(3_600_000).default(AXON_DEFAULTS.maxTimeoutMs),
  nonce: z
    .object({
      capacity: z.number().int().min(1).default(AXON_DEFAULTS.nonceCapacity),
      maxFutureMs: z.number().min(0).max(600_000).default(AXON_DEFAULTS.maxFutureMs),
      reorderWindowMs: z.number().min(0).max(60_000).default(AXON_DEFAULTS.reorderWindowMs),
    })
    .default({}),
  signResponses: z.boolean().default(false),
  stopGraceMs: z.number().min(0).max(600_000).default(AXON_DEFAULTS.stopGraceMs),
  requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(AXON_DEFAULTS.requestTimeoutMs),
  headersTimeoutMs: z.number().int().min(100).max(3_600_000).default(AXON_DEFAULTS.headersTimeoutMs),
  keepAliveTimeoutMs: z.number().int().min(100).max(3_600_000).default(AXON_DEFAULTS.keepAliveTimeoutMs),
  maxHeaderBytes: z.number().int().min(4096).max(1024 * 1024).default(AXON_DEFAULTS.maxHeaderBytes),
  inflight: z
    .object({ maxBytes: z.number().int().min(1024).optional(), maxBytesPerCaller: z.number().int().min(1024).optional() })
    .default({}),
});

/** Body bytes in flight: total default max(64 MiB, 2 bodies), per caller default 2 bodies (never above the total). */
function inflightLimits(bodyLimit: number, o: { maxBytes?: number; maxBytesPerCaller?: number }): { maxBytes: number; maxBytesPerCaller: number } {
  const maxBytes = o.maxBytes ?? Math.max(AXON_DEFAULTS.maxInFlightBytes, 2 * bodyLimit);
  return { maxBytes, maxBytesPerCaller: Math.min(maxBytes, o.maxBytesPerCaller ?? 2 * bodyLimit) };
}

export type ResolvedAxonSettings = Omit<z.output<typeof schema>, 'inflight'> & { inflight: { maxBytes: number; maxBytesPerCaller: number } };

/** Validate the numeric/network settings (they often come from flags or env). Throws UserError. */
export function resolveAxonSettings(opts: AxonOptions): ResolvedAxonSettings {
  const parsed = schema.safeParse({
    host: opts.host,
    port: opts.port,
    externalIp: opts.externalIp,
    externalPort: opts.externalPort,
    admission: opts.admission,
    rateLimit: opts.rateLimit,
    bodyLimitBytes: opts.bodyLimitBytes,
    maxTimeoutMs: opts.maxTimeoutMs,
    nonce: opts.nonce,
    signResponses: opts.signResponses,
    stopGraceMs: opts.stopGraceMs,
    requestTimeoutMs: opts.requestTimeoutMs,
    headersTimeoutMs: opts.headersTimeoutMs,
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
    maxHeaderBytes: opts.maxHeaderBytes,
    inflight: opts.inflight,
  });
  if (!parsed.success) throw new UserError(describeZodError(parsed.error, 'axon options'), { hint: 'see docs/axon.md for the option ranges' });
  return { ...parsed.data, inflight: inflightLimits(parsed.data.bodyLimitBytes, parsed.data.inflight) };
}
