/**
 * Simulator bench: end-to-end `runScenario` vs the bare `runEpoch` calls it makes (same inputs, recorded
 * in the same run). The ratio is the engine's bookkeeping overhead: weight rows, bond feedback, records.
 */
import { performance } from 'node:perf_hooks';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import type { EpochInput } from '../../framework/consensus/types.ts';
import { findBuiltinScenario, simulate, type Mode, type Participant, type Scenario } from '../../framework/simulate/index.ts';

const TAO = 1_000_000_000n;

/** A bigger subnet: `v` validators with rotating preferences over `m` miners. */
function largeScenario(v: number, m: number, epochs: number): Scenario {
  const participants: Participant[] = [];
  // Precomputed schedules, so the bench times the engine rather than building weight objects.
  const shapes = Array.from({ length: 7 }, (_, k) => Object.fromEntries(Array.from({ length: m }, (_, j) => [`m${j}`, 1 + ((j + k) % 7)])));
  for (let i = 0; i < v; i++) {
    participants.push({
      name: `v${i}`,
      uid: i,
      role: i % 5 === 4 ? 'copier' : 'validator',
      stake: BigInt(10 + ((i * 37) % 90)) * TAO,
      weights: (e) => shapes[(i + Math.floor(e / 3)) % 7],
    });
  }
  for (let j = 0; j < m; j++) participants.push({ name: `m${j}`, uid: v + j, role: 'miner', stake: 0n });
  return { name: `large-${v}x${m}`, description: 'bench', epochs, participants };
}

/** Best-of-`reps` wall time of each function, alternating them so both see the same machine load. */
function bestOfEach(reps: number, fns: Array<() => void>): number[] {
  const best = fns.map(() => Infinity);
  for (let k = 0; k < reps; k++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      best[i] = Math.min(best[i], performance.now() - t0);
    });
  }
  return best;
}

export async function run(): Promise<void> {
  const cases: Array<[Scenario, Mode]> = [
    [findBuiltinScenario('weight-copier')!, 'yuma3-liquid'],
    [findBuiltinScenario('cabal-above-kappa')!, 'yuma2'],
    [largeScenario(32, 96, 20), 'yuma3-liquid'],
  ];
  const rows: string[][] = [];
  for (const [scenario, mode] of cases) {
    const inputs: EpochInput[] = [];
    simulate(scenario, { mode }, (input) => {
      inputs.push(input);
      return runEpoch(input);
    });
    const reps = scenario.participants.length > 50 ? 8 : 30;
    const [bare, full] = bestOfEach(reps, [() => inputs.forEach((i) => runEpoch(i)), () => simulate(scenario, { mode }, runEpoch)]);
    rows.push([
      `${scenario.name} [${mode}]`,
      String(scenario.participants.length),
      String(scenario.epochs),
      bare.toFixed(1),
      full.toFixed(1),
      (full / bare).toFixed(2),
      ((scenario.epochs * 1000) / full).toFixed(0),
    ]);
  }
  const header = ['case', 'n', 'epochs', 'bare runEpoch ms', 'runScenario ms', 'ratio', 'epochs/s'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  for (const r of [header, ...rows]) process.stdout.write(r.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ') + '\n');
  process.stdout.write('(best of 30 runs, 8 for the large case; "bare" replays the same EpochInputs through runEpoch, warm-up epoch included)\n');
}
