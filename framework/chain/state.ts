import { z } from 'zod';
import type { AxonInfo, BlockInfo, SubnetHyperparameters, WeightCommit } from './types.ts';
import type { SparseRow } from '../consensus/types.ts';
import { MECHANISM_HARD_CAP, type MechanismState } from './mechanisms.ts';
import { axonInfoSchema, blockInfoSchema, hyperparametersSchema, toJson, weightCommitSchema, zBig, zBlock, zSparseRow, zSs58, zU16 } from './codec.ts';

/**
 * Everything LocalChain stores, named after subtensor's storage items. Arrays are indexed by uid.
 * One currency: stake is TAO-denominated RAO per (netuid, hotkey, coldkey) — no alpha pools.
 */
export interface SubnetState {
  netuid: number;
  ownerColdkey: string;
  ownerHotkey: string;
  registeredAt: number;
  hp: SubnetHyperparameters;
  /** `Keys(netuid, uid)`. */
  keys: string[];
  blockAtRegistration: number[];
  lastUpdate: number[];
  weights: SparseRow[];
  bonds: SparseRow[];
  validatorPermit: boolean[];
  active: boolean[];
  incentive: number[];
  dividends: number[];
  consensus: number[];
  validatorTrust: number[];
  emission: bigint[];
  axons: Array<AxonInfo | null>;
  /** `WeightCommits(netuid, hotkey)`, oldest first. */
  weightCommits: Record<string, WeightCommit[]>;
  /** `SubnetEpochIndex`. */
  epochIndex: number;
  lastEpochBlock: number;
  lastMechanismStepBlock: number;
  /** Miner + validator share accumulated since the last epoch, RAO. */
  pendingEmission: bigint;
  /** Storage of mechanisms 1 … count−1 (mechanism 0 is the fields above). */
  mechanisms: MechanismState[];
  /** `PendingEpochAt`: block of an owner-triggered epoch, 0 = none. */
  pendingEpochAt: number;
  /** `FirstEmissionBlockNumber`: set by `start_call`; no emission before it. */
  firstEmissionBlock: number | null;
  /** `LastRateLimitedBlock` of the owner's rate-limited calls. */
  ownerLastBlock: Record<string, number>;
}

export interface ChainState {
  version: 1;
  genesisHash: string;
  head: BlockInfo;
  /** Recent headers, oldest first, so subscribers can catch up after a reconnect. */
  recentBlocks: BlockInfo[];
  /** RAO emitted per block per subnet. */
  blockEmission: bigint;
  balances: Record<string, bigint>;
  /** `Owner(hotkey) → coldkey`. */
  hotkeyOwner: Record<string, string>;
  /** stake[netuid][hotkey][coldkey], RAO. */
  stake: Record<string, Record<string, Record<string, bigint>>>;
  subnets: Record<string, SubnetState>;
  /** Totals for accounting checks. */
  totalIssuance: bigint;
  totalBurned: bigint;
  /** `StartCallDelay`: blocks after registration before the owner may `start_call` (0 like the runtime). */
  startCallDelay: number;
  /** Replay protection: `publicKeyHex:nonce` of accepted signed writes → expiry (ms), pruned past expiry. */
  usedNonces: Record<string, number>;
}

const mechanismStateSchema = z.object({
  weights: z.array(zSparseRow),
  bonds: z.array(zSparseRow),
  lastUpdate: z.array(zBlock),
  incentive: z.array(zU16),
  weightCommits: z.record(z.array(weightCommitSchema)),
});

const subnetStateSchema = z.object({
  netuid: z.number().int().min(1).max(65535),
  ownerColdkey: zSs58,
  ownerHotkey: zSs58,
  registeredAt: zBlock,
  hp: hyperparametersSchema,
  keys: z.array(zSs58),
  blockAtRegistration: z.array(zBlock),
  lastUpdate: z.array(zBlock),
  weights: z.array(zSparseRow),
  bonds: z.array(zSparseRow),
  validatorPermit: z.array(z.boolean()),
  active: z.array(z.boolean()),
  incentive: z.array(zU16),
  dividends: z.array(zU16),
  consensus: z.array(zU16),
  validatorTrust: z.array(zU16),
  emission: z.array(zBig),
  axons: z.array(axonInfoSchema.nullable()),
  weightCommits: z.record(z.array(weightCommitSchema)),
  epochIndex: zBlock,
  lastEpochBlock: zBlock,
  lastMechanismStepBlock: zBlock,
  pendingEmission: zBig,
  mechanisms: z.array(mechanismStateSchema).max(MECHANISM_HARD_CAP - 1).default([]),
  pendingEpochAt: zBlock.default(0),
  // State files from before start_call existed: those subnets were already emitting.
  firstEmissionBlock: zBlock.nullable().optional(),
  ownerLastBlock: z.record(zBlock).default({}),
});

export const chainStateSchema = z.object({
  version: z.literal(1),
  genesisHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  head: blockInfoSchema,
  recentBlocks: z.array(blockInfoSchema),
  blockEmission: zBig,
  balances: z.record(zBig),
  hotkeyOwner: z.record(zSs58),
  stake: z.record(z.record(z.record(zBig))),
  subnets: z.record(subnetStateSchema),
  totalIssuance: zBig,
  totalBurned: zBig,
  startCallDelay: zBlock.default(0),
  usedNonces: z.record(z.string().max(200), zBlock).default({}),
});

export function serializeState(state: ChainState): string {
  return toJson(state);
}

/** Parse a state file; throws the zod error (the caller wraps it into a UserError naming the file). */
export function parseState(text: string): ChainState {
  const parsed = chainStateSchema.parse(JSON.parse(text)) as ChainState;
  for (const s of Object.values(parsed.subnets)) {
    if ((s as { firstEmissionBlock?: number | null }).firstEmissionBlock === undefined) s.firstEmissionBlock = s.registeredAt;
    const n = s.keys.length;
    const perUid = [s.blockAtRegistration, s.lastUpdate, s.weights, s.bonds, s.validatorPermit, s.active, s.incentive, s.emission, s.axons];
    for (const m of s.mechanisms) perUid.push(m.weights, m.bonds, m.lastUpdate, m.incentive);
    if (perUid.some((a) => a.length !== n)) throw new Error(`subnet ${s.netuid}: per-uid arrays do not match ${n} neurons`);
    if (s.mechanisms.length !== (s.hp.mechanismCount ?? 1) - 1) throw new Error(`subnet ${s.netuid}: ${s.mechanisms.length + 1} mechanisms stored, mechanismCount ${s.hp.mechanismCount ?? 1}`);
  }
  return parsed;
}
