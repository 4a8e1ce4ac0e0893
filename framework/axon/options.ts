import { isIP } from 'node:net';
import { z } from 'zod';
import { describeZodError } from '../cli/program.ts';
import { UserError } from '../errors.ts';
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
} as const;

const schema = z.object({
  host: z.string().min(1).default(AXON_DEFAULTS.host),
  port: z.number().int().min(0).max(65535).default(AXON_DEFAULTS.port),
  externalIp: z.string().refine((ip) => isIP(ip) !== 0, 'must be an IPv4 or IPv6 address').optional(),
  externalPort: z.number().int().min(1).max(65535).optional(),
  admission: z
    .object({
      maxConcurrent: z.number().int().min(1).default(AXON_DEFAULTS.maxConcurrent),
      maxQueue: z.number().int().min(0).default(AXON_DEFAULTS.maxQueue),
    })
    .default({}),
  rateLimit: z
    .union([z.literal(false), z.object({ perSecond: z.number().positive(), burst: z.number().min(1) })])
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
});

export type ResolvedAxonSettings = z.output<typeof schema>;

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
  });
  if (!parsed.success) throw new UserError(describeZodError(parsed.error, 'axon options'), { hint: 'see docs/axon.md for the option ranges' });
  return parsed.data;
}
