/**
 * Input and output of one Yuma Consensus epoch (subtensor's sparse `epoch_mechanism`).
 * Integers are exactly what subtensor stores: u16 proportions, u64 RAO amounts as bigint.
 * The JSON form of these types (`subnet consensus epoch`) is documented in docs/consensus.md.
 */

/** A sparse row as stored on chain: `[[uid, u16], …]`. */
export type SparseRow = Array<[number, number]>;

export interface EpochInput {
  n: number;
  /** Per uid, u64 (already alpha + tao_weight·tao). */
  stake: bigint[];
  lastUpdate: number[];
  blockAtRegistration: number[];
  currentBlock: number;
  /** Blocks; `lastUpdate + activityCutoff < currentBlock` ⇒ inactive. */
  activityCutoff: number;
  /** Permits from the previous epoch. */
  validatorPermit: boolean[];
  maxAllowedValidators: number;
  /** Per uid, stored max-upscaled u16 rows. */
  weights: SparseRow[];
  /** Per uid, stored u16 bond rows. */
  bonds: SparseRow[];
  kappa: number;
  bondsPenalty: number;
  /** u64, per million. */
  bondsMovingAverage: bigint;
  yuma3: boolean;
  liquidAlpha: boolean;
  alphaLow: number;
  alphaHigh: number;
  /** i16, divided by 100 in the sigmoid. */
  alphaSigmoidSteepness: number;
  tempo: number;
  /** 0 if the subnet never ran an epoch. */
  lastMechanismStepBlock: number;
  ownerUid: number | null;
  /** RAO to distribute this epoch, u64. */
  emission: bigint;
  commitRevealEnabled: boolean;
  /** Per uid, earliest commit block among unexpired commits, or null. */
  earliestCommitBlock: Array<number | null>;
}

export interface EpochOutput {
  active: boolean[];
  /** New permits (top-k by stake). */
  validatorPermit: boolean[];
  consensus: number[];
  incentive: number[];
  dividends: number[];
  validatorTrust: number[];
  /** Combined emission per uid, RAO. */
  emission: bigint[];
  serverEmission: bigint[];
  validatorEmission: bigint[];
  /** New bond rows; null where subtensor leaves the stored row untouched. */
  bonds: Array<SparseRow | null>;
}
