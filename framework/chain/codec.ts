import { z } from 'zod';
import { decodeAddress } from '@polkadot/util-crypto';
import type { AxonInfo, BlockInfo, Metagraph, SubnetHyperparameters, WeightCommit } from './types.ts';

/**
 * JSON codec shared by the state file and the localnet wire: bigints travel as decimal strings, every
 * value coming back in is parsed by one of these zod schemas (state file, HTTP bodies, WS messages).
 */

export function toJson(value: unknown): string {
  return encode(value) ?? 'null';
}

/**
 * JSON.stringify with bigints as strings. A replacer function makes V8 call back into JS for every
 * value, which dominated the state write for large weight matrices; arrays of numbers (weight and
 * bond rows) go to the native encoder instead.
 */
function encode(v: unknown): string | undefined {
  switch (typeof v) {
    case 'bigint':
      return `"${v.toString()}"`;
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(v);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (isNumberMatrix(v)) return JSON.stringify(v);
    return `[${v.map((x) => encode(x) ?? 'null').join(',')}]`;
  }
  const obj = v as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return encode((obj as { toJSON: () => unknown }).toJSON());
  const parts: string[] = [];
  for (const k of Object.keys(obj)) {
    const e = encode(obj[k]);
    if (e !== undefined) parts.push(`${JSON.stringify(k)}:${e}`);
  }
  return `{${parts.join(',')}}`;
}

/** Array of numbers, or of arrays of numbers (checked fully: cheap next to encoding). */
function isNumberMatrix(a: unknown[]): boolean {
  for (const x of a) {
    if (typeof x === 'number') continue;
    if (!Array.isArray(x)) return false;
    for (const y of x) if (typeof y !== 'number') return false;
  }
  return true;
}

export const zBig = z.union([z.bigint(), z.string().regex(/^\d{1,30}$/, 'expected a non-negative integer string').transform(BigInt)]);
export const zU16 = z.number().int().min(0).max(65535);
export const zU32 = z.number().int().min(0).max(0xffffffff);
export const zBlock = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const zNetuid = z.number().int().min(0).max(65535);
export const zSs58 = z.string().min(40).max(60).refine((s) => {
  try {
    return decodeAddress(s).length === 32;
  } catch {
    return false;
  }
}, 'not a valid SS58 address');
export const zHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte hex hash');
export const zSparseRow = z.array(z.tuple([zU16, zU16]));

export const blockInfoSchema: z.ZodType<BlockInfo> = z.object({ number: zBlock, hash: zHash, timestamp: zBlock });

export const axonInfoSchema: z.ZodType<AxonInfo> = z.object({
  block: zBlock,
  version: zU32,
  ip: z.string().max(64),
  port: zU16,
  ipType: z.union([z.literal(4), z.literal(6)]),
  protocol: z.number().int().min(0).max(255),
  placeholder1: z.number().int().min(0).max(255),
  placeholder2: z.number().int().min(0).max(255),
});

export const serveAxonSchema = z.object({
  version: zU32,
  ip: z.string().max(64),
  port: z.number().int(),
  ipType: z.number().int(),
  protocol: z.number().int().min(0).max(255),
});

export const weightCommitSchema: z.ZodType<WeightCommit> = z.object({ hash: zHash, commitEpoch: zBlock, commitBlock: zBlock });

const u16 = zU16;
/** Full hyperparameter record (state file and wire). */
export const hyperparametersSchema = z.object({
  tempo: z.number().int().min(1).max(50_400),
  kappa: u16,
  rho: u16,
  immunityPeriod: u16,
  minAllowedWeights: u16,
  maxWeightsLimit: u16,
  weightsSetRateLimit: zBlock,
  weightsVersionKey: zBig,
  activityCutoff: zBlock,
  activityCutoffFactorMilli: z.number().int().min(1).max(50_000).optional(),
  maxAllowedValidators: u16,
  maxAllowedUids: z.number().int().min(1).max(4096),
  bondsMovingAverage: zBig,
  bondsPenalty: u16,
  bondsResetOn: z.boolean(),
  commitRevealWeightsEnabled: z.boolean(),
  revealPeriodEpochs: z.number().int().min(1).max(100),
  liquidAlphaOn: z.boolean(),
  alphaLow: u16,
  alphaHigh: u16,
  alphaSigmoidSteepness: z.number().int().min(-32768).max(32767),
  yuma3On: z.boolean(),
  servingRateLimit: zBlock,
  burn: zBig,
  minBurn: zBig,
  maxBurn: zBig,
}) satisfies z.ZodType<SubnetHyperparameters, z.ZodTypeDef, unknown>;

/** What an owner may change; `activityCutoff` is derived from tempo and the factor (HEAD subtensor). */
export const hyperparametersPatchSchema = hyperparametersSchema.omit({ activityCutoff: true }).partial().strict();
export type HyperparametersPatch = z.infer<typeof hyperparametersPatchSchema>;

export const metagraphSchema: z.ZodType<Metagraph, z.ZodTypeDef, unknown> = z.object({
  netuid: zNetuid,
  block: zBlock,
  n: z.number().int().min(0),
  ownerHotkey: zSs58.nullable(),
  hotkeys: z.array(zSs58),
  coldkeys: z.array(zSs58),
  stake: z.array(zBig),
  validatorPermit: z.array(z.boolean()),
  active: z.array(z.boolean()),
  lastUpdate: z.array(zBlock),
  blockAtRegistration: z.array(zBlock),
  axons: z.array(axonInfoSchema.nullable()),
  incentive: z.array(u16),
  dividends: z.array(u16),
  consensus: z.array(u16),
  validatorTrust: z.array(u16),
  emission: z.array(zBig),
});

/** A write call, as dispatched by LocalChain and signed by LocalnetClient. */
export const chainCallSchema = z.discriminatedUnion('call', [
  z.object({ call: z.literal('registerNetwork'), args: z.object({ ownerHotkey: zSs58, hyperparameters: z.record(z.unknown()).optional() }).strict() }),
  z.object({ call: z.literal('burnedRegister'), args: z.object({ netuid: zNetuid, hotkey: zSs58 }).strict() }),
  z.object({ call: z.literal('serveAxon'), args: z.object({ netuid: zNetuid, axon: serveAxonSchema }).strict() }),
  z.object({ call: z.literal('addStake'), args: z.object({ hotkey: zSs58, netuid: zNetuid, amount: zBig }).strict() }),
  z.object({ call: z.literal('removeStake'), args: z.object({ hotkey: zSs58, netuid: zNetuid, amount: zBig }).strict() }),
  z.object({
    call: z.literal('setWeights'),
    args: z.object({ netuid: zNetuid, uids: z.array(u16).max(4096), values: z.array(u16).max(4096), versionKey: zBig }).strict(),
  }),
  z.object({ call: z.literal('commitWeights'), args: z.object({ netuid: zNetuid, commitHash: zHash }).strict() }),
  z.object({
    call: z.literal('revealWeights'),
    args: z
      .object({ netuid: zNetuid, uids: z.array(u16).max(4096), values: z.array(u16).max(4096), salt: z.array(u16).max(4096), versionKey: zBig })
      .strict(),
  }),
  // params are range-checked by applyHyperparameterPatch so errors carry subtensor's names
  z.object({ call: z.literal('setHyperparameters'), args: z.object({ netuid: zNetuid, params: z.record(z.unknown()) }).strict() }),
]);
export type ChainCall = z.infer<typeof chainCallSchema>;
export type ChainCallName = ChainCall['call'];

/** Which key subtensor requires as the origin of each call. */
export const CALL_ROLE: Record<ChainCallName, 'coldkey' | 'hotkey'> = {
  registerNetwork: 'coldkey',
  burnedRegister: 'coldkey',
  serveAxon: 'hotkey',
  addStake: 'coldkey',
  removeStake: 'coldkey',
  setWeights: 'hotkey',
  commitWeights: 'hotkey',
  revealWeights: 'hotkey',
  setHyperparameters: 'coldkey',
};

/** Something that happened on chain, pushed to WebSocket subscribers. */
export const chainEventSchema = z.object({
  name: z.string().max(64),
  block: zBlock,
  netuid: zNetuid.optional(),
  data: z.record(z.union([z.string(), z.number(), z.boolean()])),
});
export type ChainEvent = z.infer<typeof chainEventSchema>;
