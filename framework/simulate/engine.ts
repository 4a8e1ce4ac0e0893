import type { EpochInput, EpochOutput, SparseRow } from '../consensus/types.ts';
import { UserError } from '../errors.ts';
import {
  MODES,
  defaultHyperparameters,
  type EpochRecord,
  type Hyperparameters,
  type Participant,
  type ParticipantSummary,
  type RunOptions,
  type Scenario,
  type SimulationResult,
  type WeightTargets,
} from './types.ts';
import { maxUpscaleToU16, u16ToFraction } from './weights.ts';

export type EpochFn = (input: EpochInput) => EpochOutput;

const U64_MAX = (1n << 64n) - 1n;

/**
 * Block timeline, one tempo T per epoch: a warm-up epoch at block T hands out the first validator
 * permits (as on chain, where nobody holds a permit before the first epoch). Scenario epoch e then
 * spans blocks (e+1)·T … (e+2)·T: registrations land at (e+1)·T+1, weights at (e+1)·T+2, and the
 * epoch runs at (e+2)·T. So a miner registered in epoch e is masked out of bonds in that epoch, and
 * weights set after its registration are not "outdated".
 */
function epochBlock(e: number, tempo: number): number {
  return (e + 2) * tempo;
}

export function resolveHyperparameters(scenario: Scenario): Hyperparameters {
  const given = scenario.hyperparameters ?? {};
  const hp = { ...defaultHyperparameters(given.tempo), ...stripUndefined(given) };
  checkHyperparameters(hp);
  return hp;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkHyperparameters(hp: Hyperparameters): void {
  const int = (name: keyof Hyperparameters, lo: number, hi: number) => {
    const v = hp[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw new UserError(`invalid scenario: hyperparameters.${name}: expected an integer in [${lo}, ${hi}], got ${String(v)}`);
    }
  };
  int('tempo', 3, 65535);
  int('kappa', 0, 65535);
  int('bondsPenalty', 0, 65535);
  int('alphaLow', 1638, 65535);
  int('alphaHigh', 1638, 65535);
  int('alphaSigmoidSteepness', -32768, 32767);
  int('maxAllowedValidators', 1, 65535);
  int('activityCutoff', 1, Number.MAX_SAFE_INTEGER);
  if (hp.alphaLow > hp.alphaHigh) throw new UserError('invalid scenario: hyperparameters.alphaLow: must be ≤ alphaHigh');
  if (hp.bondsMovingAverage < 0n || hp.bondsMovingAverage > 1_000_000n) {
    throw new UserError('invalid scenario: hyperparameters.bondsMovingAverage: expected 0…1000000 (per million)');
  }
  if (hp.emission < 0n || hp.emission > U64_MAX) throw new UserError('invalid scenario: hyperparameters.emission: expected a u64 RAO amount');
}

/** Structural checks a hand-built Scenario object must pass too (files get the same via zod first). */
export function checkScenario(scenario: Scenario): void {
  const ps = scenario.participants;
  if (ps.length === 0) throw new UserError('invalid scenario: participants: at least one participant is required');
  if (!Number.isInteger(scenario.epochs) || scenario.epochs < 1) throw new UserError('invalid scenario: epochs: expected a positive integer');
  const names = new Set<string>();
  const uids = new Set<number>();
  ps.forEach((p, i) => {
    if (names.has(p.name)) throw new UserError(`invalid scenario: participants.${i}.name: duplicate name '${p.name}'`);
    names.add(p.name);
    if (!Number.isInteger(p.uid) || p.uid < 0 || p.uid >= ps.length || uids.has(p.uid)) {
      throw new UserError(`invalid scenario: participants.${i}.uid: uids must be distinct integers 0…${ps.length - 1}`);
    }
    uids.add(p.uid);
    const reg = p.registeredAtEpoch ?? 0;
    if (!Number.isInteger(reg) || reg < 0) throw new UserError(`invalid scenario: participants.${i}.registeredAtEpoch: expected an integer ≥ 0`);
    if ((p.reRegisterAt ?? []).some((r) => !Number.isInteger(r) || r <= reg)) {
      throw new UserError(`invalid scenario: participants.${i}.reRegisterAt: expected integers after registeredAtEpoch`);
    }
  });
  (scenario.bondResets ?? []).forEach((r, i) => {
    if (!names.has(r.participant)) throw new UserError(`invalid scenario: bondResets.${i}.participant: unknown participant '${r.participant}'`);
    if (!Number.isInteger(r.epoch) || r.epoch < 0) throw new UserError(`invalid scenario: bondResets.${i}.epoch: expected an integer ≥ 0`);
  });
  resolveHyperparameters(scenario);
}

function stakeAt(p: Participant, epoch: number): bigint {
  const s = typeof p.stake === 'bigint' ? p.stake : p.stake(epoch);
  if (s < 0n || s > U64_MAX) throw new UserError(`invalid scenario: participant '${p.name}': stake at epoch ${epoch} is not a u64 RAO amount`);
  return s;
}

/** Mutable per-uid chain storage the engine carries from epoch to epoch. */
interface ChainState {
  weights: SparseRow[];
  bonds: SparseRow[];
  lastUpdate: number[];
  blockAtRegistration: number[];
  validatorPermit: boolean[];
  /** Consensus (u16) of the last epoch that ran, what a copier can see. */
  lastConsensus: number[] | null;
}

/**
 * Run a scenario over many epochs with the given epoch function (the real `runEpoch`). The engine only
 * does the bookkeeping subtensor does between epochs: registrations, set_weights, bond resets, and
 * storing the epoch's bonds and permits.
 */
export function simulate(scenario: Scenario, opts: RunOptions, epochFn: EpochFn): SimulationResult {
  checkScenario(scenario);
  if (!MODES.includes(opts.mode)) throw new UserError(`invalid mode '${String(opts.mode)}': expected one of ${MODES.join(', ')}`);
  const hp = resolveHyperparameters(scenario);
  const epochs = opts.epochs ?? scenario.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new UserError(`invalid epochs: expected a positive integer, got ${epochs}`);
  const byUid = [...scenario.participants].sort((a, b) => a.uid - b.uid);
  const n = byUid.length;
  const uidOf = new Map(byUid.map((p) => [p.name, p.uid]));
  const names: ReadonlySet<string> = new Set(uidOf.keys());
  const T = hp.tempo;
  const state: ChainState = {
    weights: byUid.map(() => []),
    bonds: byUid.map(() => []),
    lastUpdate: byUid.map(() => 0),
    blockAtRegistration: byUid.map(() => 0),
    validatorPermit: byUid.map(() => false),
    lastConsensus: null,
  };
  const registered = (p: Participant, e: number) => (p.registeredAtEpoch ?? 0) <= e;
  const stakes = (e: number) => byUid.map((p) => (registered(p, e) ? stakeAt(p, e) : 0n));

  const makeInput = (stake: bigint[], currentBlock: number, lastStep: number): EpochInput => ({
    n,
    stake,
    lastUpdate: [...state.lastUpdate],
    blockAtRegistration: [...state.blockAtRegistration],
    currentBlock,
    activityCutoff: hp.activityCutoff,
    validatorPermit: [...state.validatorPermit],
    maxAllowedValidators: hp.maxAllowedValidators,
    weights: state.weights.map((r) => r.map(([j, v]): [number, number] => [j, v])),
    bonds: state.bonds.map((r) => r.map(([j, v]): [number, number] => [j, v])),
    kappa: hp.kappa,
    bondsPenalty: hp.bondsPenalty,
    bondsMovingAverage: hp.bondsMovingAverage,
    yuma3: opts.mode !== 'yuma2',
    liquidAlpha: opts.mode === 'yuma3-liquid',
    alphaLow: hp.alphaLow,
    alphaHigh: hp.alphaHigh,
    alphaSigmoidSteepness: hp.alphaSigmoidSteepness,
    tempo: T,
    lastMechanismStepBlock: lastStep,
    ownerUid: null,
    emission: hp.emission,
    commitRevealEnabled: false,
    earliestCommitBlock: byUid.map(() => null),
  });

  // Warm-up epoch: no weights yet, it only hands out the first permits.
  const warm = epochFn(makeInput(stakes(0), T, 0));
  state.validatorPermit = [...warm.validatorPermit];

  const perEpoch: EpochRecord[] = [];
  for (let e = 0; e < epochs; e++) {
    const start = (e + 1) * T;
    for (const p of byUid) {
      if (e > 0 && (p.registeredAtEpoch === e || p.reRegisterAt?.includes(e))) register(state, p.uid, start + 1);
    }
    for (const r of scenario.bondResets ?? []) {
      if (r.epoch === e) resetBondColumn(state, uidOf.get(r.participant)!);
    }
    for (const p of byUid) {
      if (!registered(p, e)) continue;
      const row = weightRowFor(p, e, byUid, state, registered, names);
      if (row) {
        state.weights[p.uid] = row;
        state.lastUpdate[p.uid] = start + 2;
      }
    }
    const stake = stakes(e);
    const block = epochBlock(e, T);
    const out = epochFn(makeInput(stake, block, start));
    state.validatorPermit = [...out.validatorPermit];
    out.bonds.forEach((row, i) => {
      if (row !== null) state.bonds[i] = row.map(([j, v]): [number, number] => [j, v]);
    });
    state.lastConsensus = [...out.consensus];
    perEpoch.push(recordOf(e, block, stake, out, state.bonds, n));
    opts.onEpoch?.(e + 1, epochs);
  }
  return {
    scenario: scenario.name,
    mode: opts.mode,
    epochs,
    hyperparameters: hp,
    participants: byUid.map((p) => ({ name: p.name, uid: p.uid, role: p.role })),
    perEpoch,
    summary: summarize(byUid, perEpoch),
  };
}

/** (Re)registration: subtensor sets BlockAtRegistration and LastUpdate and starts the uid clean. */
function register(state: ChainState, uid: number, block: number): void {
  state.blockAtRegistration[uid] = block;
  state.lastUpdate[uid] = block;
  state.weights[uid] = [];
  state.bonds[uid] = [];
  state.validatorPermit[uid] = false;
}

/** `do_reset_bonds`: delete the column of `uid` from every bond row. */
function resetBondColumn(state: ChainState, uid: number): void {
  state.bonds = state.bonds.map((row) => row.filter(([j]) => j !== uid));
}

function weightRowFor(
  p: Participant,
  e: number,
  all: Participant[],
  state: ChainState,
  registered: (p: Participant, e: number) => boolean,
  names: ReadonlySet<string>,
): SparseRow | null {
  if (p.role === 'miner') return null;
  const entries: Array<[number, number]> = [];
  const c = state.lastConsensus;
  if (p.role === 'copier' && c !== null) {
    // Copies the consensus published by the previous epoch (it cannot see this epoch's yet).
    for (const q of all) {
      if (q.uid === p.uid || !registered(q, e)) continue;
      if (q.role === 'miner' || c[q.uid] > 0) entries.push([q.uid, c[q.uid]]);
    }
    return maxUpscaleToU16(entries);
  }
  // Validators follow their schedule; a copier, before the first epoch ran, its own (what it had copied).
  const targets = p.weights?.(e) ?? null;
  if (targets === null) return null;
  checkTargets(p, e, targets, names);
  // A full row over every registered miner (explicit zeros, like subtensor's Yuma 3 tests), plus any
  // non-miner the validator names. Unregistered uids cannot be weighted yet.
  for (const q of all) {
    if (!registered(q, e)) continue;
    const v = targets[q.name];
    if (q.role === 'miner' || v !== undefined) entries.push([q.uid, v ?? 0]);
  }
  return maxUpscaleToU16(entries);
}

function checkTargets(p: Participant, e: number, targets: WeightTargets, names: ReadonlySet<string>): void {
  for (const [name, v] of Object.entries(targets)) {
    if (!names.has(name)) {
      throw new UserError(`invalid scenario: participant '${p.name}' weights at epoch ${e}: unknown participant '${name}'`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new UserError(`invalid scenario: participant '${p.name}' weights at epoch ${e}: '${name}' must be a non-negative number`);
    }
  }
}

function recordOf(e: number, block: number, stake: bigint[], out: EpochOutput, bonds: SparseRow[], n: number): EpochRecord {
  // Rows without any bond share one frozen zero row, so long runs of big subnets stay small in memory.
  const zeros: number[] = Object.freeze(new Array<number>(n).fill(0)) as number[];
  const dense = bonds.map((row) => {
    if (row.length === 0) return zeros;
    const d = new Array<number>(n).fill(0);
    for (const [j, v] of row) if (j < n) d[j] = u16ToFraction(v);
    return d;
  });
  return {
    epoch: e,
    block,
    stake,
    active: [...out.active],
    validatorPermit: [...out.validatorPermit],
    consensus: out.consensus.map(u16ToFraction),
    incentive: out.incentive.map(u16ToFraction),
    dividends: out.dividends.map(u16ToFraction),
    validatorTrust: out.validatorTrust.map(u16ToFraction),
    emission: [...out.emission],
    bonds: dense,
  };
}

function summarize(byUid: Participant[], perEpoch: EpochRecord[]): ParticipantSummary[] {
  const totals = perEpoch.map((r) => r.stake.reduce((a, b) => a + b, 0n));
  return byUid.map((p) => {
    let div = 0;
    let inc = 0;
    let share = 0;
    let em = 0n;
    perEpoch.forEach((r, e) => {
      div += r.dividends[p.uid];
      inc += r.incentive[p.uid];
      em += r.emission[p.uid];
      const total = totals[e];
      if (total > 0n) share += Number((r.stake[p.uid] * 1_000_000_000n) / total) / 1e9;
    });
    return {
      name: p.name,
      uid: p.uid,
      role: p.role,
      totalDividends: div,
      totalIncentive: inc,
      totalEmission: em,
      dividendPerStake: share > 0 ? div / share : 0,
    };
  });
}
