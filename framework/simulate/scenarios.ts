import type { Hyperparameters, Participant, Scenario, WeightTargets } from './types.ts';

const TAO = 1_000_000_000n;

/**
 * Parameters of subtensor's Yuma 3 scenario tests and of bactensor/yuma-simulation's charts:
 * bonds penalty 0, bonds moving average 0.975 (α = 0.025), liquid alpha in [0.1, 0.3].
 */
export const YUMA3_TEST_PARAMS: Partial<Hyperparameters> = {
  bondsPenalty: 0,
  bondsMovingAverage: 975_000n,
  alphaLow: 6553,
  alphaHigh: 19660,
  alphaSigmoidSteepness: 1000,
};

type Schedule = (epoch: number) => WeightTargets | null;

/** All weight on one participant. */
const only = (name: string): WeightTargets => ({ [name]: 1 });

function validator(name: string, uid: number, stakeTao: number, weights: Schedule): Participant {
  return { name, uid, role: 'validator', stake: BigInt(stakeTao) * TAO, weights };
}

function miner(name: string, uid: number, registeredAtEpoch = 0): Participant {
  return { name, uid, role: 'miner', stake: 0n, registeredAtEpoch };
}

/** All weight on `to` from epoch `at` on, on `from` before. */
function switchAt(at: number, from: string, to: string): Schedule {
  return (e) => (e < at ? only(from) : only(to));
}

const kappaMovesFirst: Scenario = {
  name: 'kappa-moves-first',
  description: 'Kappa moves first: the big validator (80% stake) switches to the new best miner one epoch before the others.',
  epochs: 40,
  hyperparameters: YUMA3_TEST_PARAMS,
  participants: [
    validator('A', 0, 8, switchAt(1, 's1', 's2')),
    validator('B', 1, 1, switchAt(2, 's1', 's2')),
    validator('C', 2, 1, switchAt(3, 's1', 's2')),
    miner('s1', 3),
    miner('s2', 4),
  ],
};

const kappaMovesSecond: Scenario = {
  name: 'kappa-moves-second',
  description: 'Kappa moves second: a small validator switches first, the big one (80%) an epoch later, the last small one after.',
  epochs: 40,
  hyperparameters: YUMA3_TEST_PARAMS,
  participants: [
    validator('A', 0, 8, switchAt(2, 's1', 's2')),
    validator('B', 1, 1, switchAt(1, 's1', 's2')),
    validator('C', 2, 1, switchAt(3, 's1', 's2')),
    miner('s1', 3),
    miner('s2', 4),
  ],
};

const oneEpochSwitch: Scenario = {
  name: 'one-epoch-switch',
  description: 'One validator switches for one epoch: three near-equal validators (33/33/34) agree, except C votes for s2 in epoch 2.',
  epochs: 40,
  hyperparameters: YUMA3_TEST_PARAMS,
  participants: [
    validator('A', 0, 33, () => only('s1')),
    validator('B', 1, 33, () => only('s1')),
    validator('C', 2, 34, (e) => (e === 2 ? only('s2') : only('s1'))),
    miner('s1', 3),
    miner('s2', 4),
  ],
};

/** Miner quality drifts: the leader changes every 4 epochs; honest validators track it at once. */
function driftingQuality(e: number): WeightTargets {
  const leader = Math.floor(e / 4) % 4;
  const w: Record<string, number> = {};
  for (let j = 0; j < 4; j++) w[`s${j + 1}`] = j === leader ? 1 : 0.25;
  return w;
}

const weightCopier: Scenario = {
  name: 'weight-copier',
  description:
    'Weight copier: two honest validators (40% and 30% stake) track miners whose quality changes every 4 epochs; a copier (30%) sets last epoch\'s consensus.',
  epochs: 40,
  participants: [
    validator('H1', 0, 40, driftingQuality),
    validator('H2', 1, 30, driftingQuality),
    // Before the first consensus it has nothing to copy: it starts from what it copied before the run.
    { name: 'copier', uid: 2, role: 'copier', stake: 30n * TAO, weights: driftingQuality },
    miner('s1', 3),
    miner('s2', 4),
    miner('s3', 5),
    miner('s4', 6),
  ],
};

const honestSpread: WeightTargets = { s1: 1, s2: 1, s3: 1 };

function cabal(name: string, description: string, honestTao: number, cabalTao: number): Scenario {
  return {
    name,
    description,
    epochs: 30,
    participants: [
      validator('H1', 0, honestTao, () => honestSpread),
      validator('H2', 1, honestTao, () => honestSpread),
      validator('K1', 2, cabalTao, () => only('X')),
      validator('K2', 3, cabalTao, () => only('X')),
      miner('s1', 4),
      miner('s2', 5),
      miner('s3', 6),
      miner('X', 7),
    ],
  };
}

const cabalBelowKappa = cabal(
  'cabal-below-kappa',
  'Cabal below kappa: two colluding validators (40% of stake) put all weight on their own miner X; honest validators spread over s1–s3.',
  30,
  20,
);

const cabalAboveKappa = cabal(
  'cabal-above-kappa',
  'Cabal above kappa: the same cabal with 60% of stake takes over consensus and moves all incentive to X.',
  20,
  30,
);

/** Weight on s1/s2, and on the new (better) miner s3 once this validator has found it. */
function discovers(at: number): Schedule {
  return (e): WeightTargets => (e < at ? { s1: 1, s2: 1 } : { s1: 0.5, s2: 0.5, s3: 1 });
}

const newMinerDiscovery: Scenario = {
  name: 'new-miner-discovery',
  description: 'New-miner discovery: s3 registers in epoch 5; validators find it in epochs 6 (A, 50%), 8 (B, 30%) and 12 (C, 20%).',
  epochs: 30,
  participants: [
    validator('A', 0, 50, discovers(6)),
    validator('B', 1, 30, discovers(8)),
    validator('C', 2, 20, discovers(12)),
    miner('s1', 3),
    miner('s2', 4),
    miner('s3', 5, 5),
  ],
};

const lateValidator: Scenario = {
  name: 'late-validator',
  description:
    'Late validators: all move from s1 to s2 in epoch 10; C (25%) sets its weights 2 epochs late, B (25%) stops setting weights after epoch 5 and goes inactive.',
  epochs: 40,
  participants: [
    validator('A', 0, 50, switchAt(10, 's1', 's2')),
    validator('B', 1, 25, (e) => (e <= 5 ? only('s1') : null)),
    validator('C', 2, 25, (e) => (e < 2 ? null : switchAt(10, 's1', 's2')(e - 2))),
    miner('s1', 3),
    miner('s2', 4),
  ],
};

const bondsReset: Scenario = {
  name: 'bonds-reset',
  description: 'Bond reset: all move s1→s2 in epoch 10 and back to s1 in epoch 20, when s1 resets its bonds (BondsResetOn).',
  epochs: 40,
  hyperparameters: YUMA3_TEST_PARAMS,
  bondResets: [{ epoch: 20, participant: 's1' }],
  participants: [
    validator('A', 0, 8, (e) => (e >= 10 && e < 20 ? only('s2') : only('s1'))),
    validator('B', 1, 1, (e) => (e >= 10 && e < 20 ? only('s2') : only('s1'))),
    validator('C', 2, 1, (e) => (e >= 11 && e < 21 ? only('s2') : only('s1'))),
    miner('s1', 3),
    miner('s2', 4),
  ],
};

export const builtinScenarios: readonly Scenario[] = Object.freeze([
  kappaMovesFirst,
  kappaMovesSecond,
  oneEpochSwitch,
  weightCopier,
  cabalBelowKappa,
  cabalAboveKappa,
  newMinerDiscovery,
  lateValidator,
  bondsReset,
]);

/** Find a built-in by name; also accepts the spaced form ("kappa moves first"), case-insensitive. */
export function findBuiltinScenario(name: string): Scenario | undefined {
  const key = name.trim().toLowerCase().replace(/[\s_]+/g, '-');
  return builtinScenarios.find((s) => s.name === key);
}
