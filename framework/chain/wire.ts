import { z } from 'zod';
import {
  blockInfoSchema,
  chainEventSchema,
  hyperparametersSchema,
  metagraphSchema,
  weightCommitSchema,
  zBig,
  zBlock,
  zHash,
  zMechid,
  zNetuid,
  zSparseRow,
  zAccount,
  zSs58,
  zU16,
} from './codec.ts';

/**
 * The localnet HTTP/WS protocol. Reads: `POST /read {method, params}`. Writes: `POST /submit
 * {payload, signature, signer}` where `payload` is the exact signed JSON string
 * `{genesisHash, call, args, nonce, timestamp}` (sr25519 over its UTF-8 bytes, prefixed by
 * SIGNING_CONTEXT). Both directions are zod-checked. WebSocket `/ws`: the client sends
 * `{type:'subscribe', fromBlock?}`, the server pushes `{type:'block'}` and `{type:'event'}` messages.
 */
export const SIGNING_CONTEXT = 'subnetkit-localnet/v1:';
/** Signed writes older or newer than this are refused (replay protection window). */
export const MAX_CLOCK_SKEW_MS = 60_000;

const epochScheduleSchema = z.object({
  tempo: zBlock,
  lastEpochBlock: zBlock,
  pendingEpochAt: zBlock,
  nextEpochBlock: zBlock,
  firstEmissionBlock: zBlock.nullable(),
  epochIndex: zBlock,
});

/** Read methods: params schema and result schema, used by the server (params) and client (result). */
export const readMethods = {
  getBlock: { params: z.object({}).strict(), result: blockInfoSchema },
  getBalance: { params: z.object({ coldkey: zAccount }).strict(), result: zBig },
  subnetExists: { params: z.object({ netuid: zNetuid }).strict(), result: z.boolean() },
  listSubnets: { params: z.object({}).strict(), result: z.array(zNetuid).max(65536) },
  getHyperparameters: { params: z.object({ netuid: zNetuid }).strict(), result: hyperparametersSchema },
  getMetagraph: { params: z.object({ netuid: zNetuid, mechid: zMechid.optional() }).strict(), result: metagraphSchema },
  getUid: { params: z.object({ netuid: zNetuid, hotkey: zAccount }).strict(), result: z.number().int().nullable() },
  getEpochIndex: { params: z.object({ netuid: zNetuid }).strict(), result: zBlock },
  getWeightCommits: { params: z.object({ netuid: zNetuid, hotkey: zAccount, mechid: zMechid.optional() }).strict(), result: z.array(weightCommitSchema) },
  getWeights: { params: z.object({ netuid: zNetuid, uid: zU16, mechid: zMechid.optional() }).strict(), result: zSparseRow },
  getEpochSchedule: { params: z.object({ netuid: zNetuid }).strict(), result: epochScheduleSchema },
  getStake: { params: z.object({ netuid: zNetuid, hotkey: zAccount, coldkey: zAccount }).strict(), result: zBig },
} as const;
export type ReadMethod = keyof typeof readMethods;

export const readRequestSchema = z.object({
  method: z.enum(Object.keys(readMethods) as [ReadMethod, ...ReadMethod[]]),
  params: z.record(z.unknown()).default({}),
});

export const signedRequestSchema = z.object({
  payload: z.string().max(1_000_000),
  signature: z.string().regex(/^0x[0-9a-fA-F]{128}$/),
  signer: zAccount,
});

export const signedPayloadSchema = z.object({
  genesisHash: zHash,
  call: z.string().max(64),
  args: z.unknown(),
  /** Random per request; (signer, nonce) is accepted once. */
  nonce: z.string().regex(/^[0-9a-f]{16,64}$/),
  timestamp: zBlock,
});

export const faucetRequestSchema = z.object({ coldkey: zAccount, amount: zBig });

export const errorBodySchema = z.object({ ok: z.literal(false), error: z.object({ code: z.string().max(100), message: z.string().max(2000) }) });
export const okBodySchema = z.object({ ok: z.literal(true), result: z.unknown() });
export const responseBodySchema = z.union([okBodySchema, errorBodySchema]);

export const infoSchema = z.object({
  genesisHash: zHash,
  head: blockInfoSchema,
  blockTimeMs: z.number().int().min(0),
  devAccounts: z.array(z.object({ uri: z.string(), address: zSs58 })),
});
export type LocalnetInfo = z.infer<typeof infoSchema>;

export const clientMessageSchema = z.object({ type: z.literal('subscribe'), fromBlock: zBlock.optional() });
export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('block'), block: blockInfoSchema }),
  z.object({ type: z.literal('event'), event: chainEventSchema }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
