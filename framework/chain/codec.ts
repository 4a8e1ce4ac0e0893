import { z } from 'zod';
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
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
/** Longest SS58 text for a 32-byte key (2-byte prefix, 2-byte checksum) is 50 characters; allow a margin. */
export const MAX_SS58_LENGTH = 60;
/** 32-byte public key of an SS58 address, or null; bounded before decoding (base58 decode is quadratic in the length). */
export function ss58PublicKey(s: string): Uint8Array | null {
  if (s.length < 40 || s.length > MAX_SS58_LENGTH) return null;
  try {
    const pk = decodeAddress(s);
    return pk.length === 32 ? pk : null;
  } catch {
    return null;
  }
}
// superRefine with an early return: zod runs .refine even after .max failed, so a 40 000-character string
// used to reach the (quadratic) decoder.
export const zSs58 = z.string().superRefine((s, ctx) => {
  if (ss58PublicKey(s) === null) ctx.addIssue({ code: z.ZodIssueCode.custom, message: s.length > MAX_SS58_LENGTH ? `too long for an SS58 address (${s.length} > ${MAX_SS58_LENGTH} characters)` : 'not a valid SS58 address' });
});
/**
 * An account accepted from outside (wire, calls): any SS58 form of a 32-byte key, normalised to the
 * canonical prefix-42 form, so one key is one account and one replay identity whatever its encoding.
 */
export const zAccount = z.string().transform((s, ctx) => {
  const pk = ss58PublicKey(s);
  if (pk === null) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: s.length > MAX_SS58_LENGTH ? `too long for an SS58 address (${s.length} > ${MAX_SS58_LENGTH} characters)` : 'not a valid SS58 address' });
    return z.NEVER;
  }
  return encodeAddress(pk, 42);
});
export const zHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte hex hash');
/** `MechId` (u8; at most 16 mechanisms per subnet). */
export const zMechid = z.number().int().min(0).max(15);
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
  mechanismCount: z.number().int().min(1).max(16).optional(),
  mechanismEmissionSplit: z.array(u16).min(1).max(16).optional(),
}) satisfies z.ZodType<SubnetHyperparameters, z.ZodTypeDef, unknown>;

/** What an owner may change; `activityCutoff` is derived from tempo and the factor (HEAD subtensor). */
export const hyperparametersPatchSchema = hyperparametersSchema.omit({ activityCutoff: true }).partial().strict();
export type HyperparametersPatch = z.infer<typeof hyperparametersPatchSchema>;

export const metagraphSchema: z.ZodType<Metagraph, z.ZodTypeDef, unknown> = z.object({
  netuid: zNetuid,
  mechid: zMechid.optional(),
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
  z.object({ call: z.literal('registerNetwork'), args: z.object({ ownerHotkey: zAccount, hyperparameters: z.record(z.unknown()).optional() }).strict() }),
  z.object({ call: z.literal('burnedRegister'), args: z.object({ netuid: zNetuid, hotkey: zAccount }).strict() }),
  z.object({ call: z.literal('serveAxon'), args: z.object({ netuid: zNetuid, axon: serveAxonSchema }).strict() }),
  z.object({ call: z.literal('addStake'), args: z.object({ hotkey: zAccount, netuid: zNetuid, amount: zBig }).strict() }),
  z.object({ call: z.literal('removeStake'), args: z.object({ hotkey: zAccount, netuid: zNetuid, amount: zBig }).strict() }),
  z.object({ call: z.literal('transfer'), args: z.object({ dest: zAccount, amount: zBig }).strict() }),
  z.object({
    call: z.literal('setWeights'),
    args: z.object({ netuid: zNetuid, mechid: zMechid.optional(), uids: z.array(u16).max(4096), values: z.array(u16).max(4096), versionKey: zBig }).strict(),
  }),
  z.object({ call: z.literal('commitWeights'), args: z.object({ netuid: zNetuid, mechid: zMechid.optional(), commitHash: zHash }).strict() }),
  z.object({
    call: z.literal('revealWeights'),
    args: z
      .object({ netuid: zNetuid, mechid: zMechid.optional(), uids: z.array(u16).max(4096), values: z.array(u16).max(4096), salt: z.array(u16).max(4096), versionKey: zBig })
      .strict(),
  }),
  // params are range-checked by applyHyperparameterPatch so errors carry subtensor's names
  z.object({ call: z.literal('setHyperparameters'), args: z.object({ netuid: zNetuid, params: z.record(z.unknown()) }).strict() }),
  // Owner calls of the 2026 runtime (start_call, dynamic tempo, mechanisms).
  z.object({ call: z.literal('startCall'), args: z.object({ netuid: zNetuid }).strict() }),
  z.object({ call: z.literal('setTempo'), args: z.object({ netuid: zNetuid, tempo: zU16 }).strict() }),
  z.object({ call: z.literal('triggerEpoch'), args: z.object({ netuid: zNetuid }).strict() }),
  z.object({ call: z.literal('setMechanismCount'), args: z.object({ netuid: zNetuid, count: z.number().int().min(0).max(255) }).strict() }),
  z.object({ call: z.literal('setMechanismEmissionSplit'), args: z.object({ netuid: zNetuid, split: z.array(u16).max(16).nullable() }).strict() }),
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
  transfer: 'coldkey',
  setWeights: 'hotkey',
  commitWeights: 'hotkey',
  revealWeights: 'hotkey',
  setHyperparameters: 'coldkey',
  startCall: 'coldkey',
  setTempo: 'coldkey',
  triggerEpoch: 'coldkey',
  setMechanismCount: 'coldkey',
  setMechanismEmissionSplit: 'coldkey',
};

/** Something that happened on chain, pushed to WebSocket subscribers. */
export const chainEventSchema = z.object({
  name: z.string().max(64),
  block: zBlock,
  netuid: zNetuid.optional(),
  data: z.record(z.union([z.string(), z.number(), z.boolean()])),
});
export type ChainEvent = z.infer<typeof chainEventSchema>;
