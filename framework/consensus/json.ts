/**
 * JSON codec of one epoch (`subnet consensus epoch`): zod-validated EpochInput in, EpochOutput out.
 * u64 values may be JSON numbers (safe integers) or decimal strings; RAO outputs are decimal strings.
 */
import { z } from 'zod';
import { describeZodError, UserError } from '../errors.ts';
import type { EpochInput, EpochOutput, SparseRow } from './types.ts';

const U64_MAX = (1n << 64n) - 1n;

/** u64 as a bigint, from a non-negative safe integer or a decimal string. */
const u64 = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^\d+$/, 'expected a decimal u64 string'),
]).transform((v, ctx) => {
  const b = BigInt(v);
  if (b > U64_MAX) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'exceeds u64' });
  return b;
});

/** A block number or block count: u64 on chain, kept as a Number (≤ 2^52, so `lastUpdate + cutoff` is exact). */
const block = z.union([z.number(), z.string().regex(/^\d+$/, 'expected a decimal integer string')])
  .transform((v) => Number(v))
  .pipe(z.number().int().nonnegative().max(2 ** 52, 'block numbers above 2^52 are not supported (sums must stay exact)'));

const u16 = z.number().int().min(0).max(65535);
const i16 = z.number().int().min(-32768).max(32767);
const uid = z.number().int().min(0).max(65535);
const row = z.array(z.tuple([uid, u16]));

const schema = z.object({
  n: z.number().int().min(0).max(65535),
  stake: z.array(u64),
  lastUpdate: z.array(block),
  blockAtRegistration: z.array(block),
  currentBlock: block,
  activityCutoff: block,
  validatorPermit: z.array(z.boolean()),
  maxAllowedValidators: u16,
  weights: z.array(row),
  bonds: z.array(row),
  kappa: u16,
  bondsPenalty: u16,
  bondsMovingAverage: u64,
  yuma3: z.boolean(),
  liquidAlpha: z.boolean(),
  alphaLow: u16,
  alphaHigh: u16,
  alphaSigmoidSteepness: i16,
  tempo: block,
  lastMechanismStepBlock: block,
  ownerUid: uid.nullable(),
  emission: u64,
  commitRevealEnabled: z.boolean(),
  earliestCommitBlock: z.array(block.nullable()),
}).strict().superRefine((v, ctx) => {
  const perUid = ['stake', 'lastUpdate', 'blockAtRegistration', 'validatorPermit', 'weights', 'bonds', 'earliestCommitBlock'] as const;
  for (const key of perUid) {
    if (v[key].length !== v.n) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: `expected ${v.n} entries (n), got ${v[key].length}` });
    }
  }
  for (const key of ['weights', 'bonds'] as const) {
    v[key].forEach((r: SparseRow, i) => r.forEach(([j], k) => {
      if (j >= v.n) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key, i, k, 0], message: `uid ${j} is not below n = ${v.n}` });
    }));
  }
  if (v.ownerUid !== null && v.ownerUid >= v.n) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ownerUid'], message: `uid ${v.ownerUid} is not below n = ${v.n}` });
  }
  const total = v.stake.reduce((a, b) => a + b, 0n);
  if (total >= 1n << 63n) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['stake'], message: 'total stake must be below 2^63 (I64F64 range)' });
});

/** The zod schema of the JSON epoch input (exported for other tools that embed it). */
export const epochInputSchema = schema;

/** Parse and validate one epoch input; a UserError names the first offending field. */
export function parseEpochInputJson(text: string): EpochInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`invalid JSON: ${(e as Error).message}`, { hint: 'the input must be one JSON object, see docs/consensus.md' });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(describeZodError(parsed.error, 'epoch input'));
  }
  return parsed.data;
}

/** JSON-ready form of an epoch output: RAO amounts as decimal strings, bonds rows or null. */
export function epochOutputToJson(o: EpochOutput): object {
  const rao = (xs: bigint[]) => xs.map((x) => x.toString());
  return {
    active: o.active,
    validatorPermit: o.validatorPermit,
    consensus: o.consensus,
    incentive: o.incentive,
    dividends: o.dividends,
    validatorTrust: o.validatorTrust,
    emission: rao(o.emission),
    serverEmission: rao(o.serverEmission),
    validatorEmission: rao(o.validatorEmission),
    bonds: o.bonds,
  };
}

/** JSON-ready form of an epoch input (u64 values as decimal strings); parses back with parseEpochInputJson. */
export function epochInputToJson(i: EpochInput): object {
  return {
    ...i,
    stake: i.stake.map((s) => s.toString()),
    bondsMovingAverage: i.bondsMovingAverage.toString(),
    emission: i.emission.toString(),
  };
}
