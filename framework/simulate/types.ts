/**
 * Scenario model of the Yuma mechanism simulator. A scenario is a set of participants (validators,
 * miners, weight copiers) whose stake and weights are functions of the epoch number; the engine turns
 * them into one `EpochInput` per epoch and feeds the real epoch's bonds and permits back.
 */

export type Mode = 'yuma2' | 'yuma3' | 'yuma3-liquid';
export const MODES: readonly Mode[] = ['yuma2', 'yuma3', 'yuma3-liquid'];

/**
 * validator: sets the weights its schedule gives; copier: sets the consensus of the previous epoch
 * (it only sees it once that epoch ran), or in the first epoch its own schedule; miner: sets
 * no weights.
 */
export type Role = 'validator' | 'miner' | 'copier';

/** Relative weights by participant name (any non-negative scale); stored max-upscaled to u16. */
export type WeightTargets = Readonly<Record<string, number>>;

export interface Participant {
  /** Unique, used in weight targets, tables and charts. */
  name: string;
  uid: number;
  role: Role;
  /** RAO, u64. A function for stake that changes over time. */
  stake: bigint | ((epoch: number) => bigint);
  /**
   * Weights set before epoch `epoch` runs. `null` sets nothing: the stored row stays (stale) and
   * LastUpdate is not refreshed, so the validator eventually goes inactive. Ignored for miners. For a
   * copier, used only in the first epoch, before any consensus exists (what it copied before the run).
   */
  weights?: (epoch: number) => WeightTargets | null;
  /** Epoch at which the uid is registered; 0 = present from the start. */
  registeredAtEpoch?: number;
  /**
   * Epochs at which the uid is pruned and registered again (a new hotkey on the same uid): its own
   * weights and bonds are cleared, and weights set on it before then become outdated.
   */
  reRegisterAt?: number[];
}

/** Hyperparameters in subtensor storage units. */
export interface Hyperparameters {
  /** Blocks per epoch (≥ 3 so that registration and set_weights fit inside one tempo). */
  tempo: number;
  /** u16, consensus quorum (32767 ≈ 0.5). */
  kappa: number;
  /** Per million; EMA α = 1 − x/1e6. */
  bondsMovingAverage: bigint;
  /** u16, β = x/65535. */
  bondsPenalty: number;
  /** u16 liquid alpha bounds. */
  alphaLow: number;
  alphaHigh: number;
  /** i16, divided by 100 in the sigmoid. */
  alphaSigmoidSteepness: number;
  maxAllowedValidators: number;
  /** Blocks; default max(1, 13889·tempo/1000) as at subtensor HEAD. */
  activityCutoff: number;
  /** RAO distributed per epoch. */
  emission: bigint;
}

export const DEFAULT_TEMPO = 360;

/** subtensor defaults (new subnet: MaxAllowedValidators 64); emission 1 TAO per epoch as in the epoch tests. */
export function defaultHyperparameters(tempo = DEFAULT_TEMPO): Hyperparameters {
  return {
    tempo,
    kappa: 32767,
    bondsMovingAverage: 900_000n,
    bondsPenalty: 65535,
    alphaLow: 45875,
    alphaHigh: 58982,
    alphaSigmoidSteepness: 1000,
    maxAllowedValidators: 64,
    activityCutoff: Math.max(1, Math.floor((13_889 * tempo) / 1000)),
    emission: 1_000_000_000n,
  };
}

export interface BondReset {
  /** The reset happens before this epoch runs. */
  epoch: number;
  /** Whose bond column is deleted from every bond row (subtensor `do_reset_bonds`). */
  participant: string;
}

export interface Scenario {
  name: string;
  description: string;
  /** Default number of epochs. */
  epochs: number;
  participants: Participant[];
  hyperparameters?: Partial<Hyperparameters>;
  bondResets?: BondReset[];
}

/** One epoch's outputs, indexed by uid (= participant order). Proportions as fractions of 1 (u16/65535). */
export interface EpochRecord {
  epoch: number;
  /** Block at which this epoch ran. */
  block: number;
  stake: bigint[];
  active: boolean[];
  validatorPermit: boolean[];
  consensus: number[];
  incentive: number[];
  dividends: number[];
  validatorTrust: number[];
  /** Combined emission, RAO. */
  emission: bigint[];
  /** Stored bonds after the epoch, dense `[validator][miner]`, u16/65535. */
  bonds: number[][];
}

export interface ParticipantSummary {
  name: string;
  uid: number;
  role: Role;
  /** Sums over all epochs. */
  totalDividends: number;
  totalIncentive: number;
  totalEmission: bigint;
  /**
   * Σ dividends ÷ Σ stake share (stake / total stake), over the epochs: 1 means the participant earned
   * exactly its share of stake; 0 for participants without stake.
   */
  dividendPerStake: number;
}

export interface SimulationResult {
  scenario: string;
  mode: Mode;
  epochs: number;
  hyperparameters: Hyperparameters;
  participants: Array<{ name: string; uid: number; role: Role }>;
  perEpoch: EpochRecord[];
  summary: ParticipantSummary[];
}

export interface RunOptions {
  epochs?: number;
  mode: Mode;
  /** Called after each epoch (progress reporting). */
  onEpoch?: (epoch: number, total: number) => void;
}
