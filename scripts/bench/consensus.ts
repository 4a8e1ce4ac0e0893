/**
 * Bench suite 'consensus': runEpoch (Number fast path) against the straightforward BigInt port
 * (runEpochReference) on the mainnet sn15 metagraph (n = 256) and a synthetic n = 4096 subnet with 256
 * validators and 10 % dense weights. Every row also checks that both paths give identical outputs.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { cpus, loadavg } from 'node:os';
import type { EpochInput } from '../../framework/consensus/types.ts';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import { runEpochReference } from '../../framework/consensus/reference.ts';
import { metagraphSchema, metagraphToEpochInput, syntheticEpochInput, prng } from '../../framework/consensus/scenarios.ts';
import { mulFloor, divTrunc } from '../../framework/consensus/fast-fixed.ts';
import { satMul, safeDiv } from '../../framework/consensus/fixed.ts';

const METAGRAPH = '/work/shared/data/mainnet-sn15-metagraph.json';

/**
 * Median wall time and median CPU time (this process, user+system) in ms of `fn`, after a warm-up, over
 * enough runs to fill ~`budgetMs`. CPU time is reported because the bench machine is shared: under load
 * the wall time includes waiting for a core.
 */
function timeMs(fn: () => void, budgetMs: number, maxRuns = 200): { wall: number; cpu: number } {
  const t0 = performance.now();
  fn();
  const first = performance.now() - t0;
  const runs = Math.max(1, Math.min(maxRuns, Math.floor(budgetMs / Math.max(first, 0.01))));
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    const s = performance.now();
    fn();
    wall.push(performance.now() - s);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return { wall: median(wall), cpu: median(cpu) };
}

interface Row { scenario: string; n: number; fast: { wall: number; cpu: number }; reference: number | null; target: number; identical: string }

function bench(scenario: string, input: EpochInput, target: number, withReference: boolean): Row {
  const fast = timeMs(() => runEpoch(input), 1500);
  let reference: number | null = null;
  let identical = 'n/a';
  if (withReference) {
    reference = timeMs(() => runEpochReference(input), 3000, 5).wall;
    identical = isDeepStrictEqual(runEpoch(input), runEpochReference(input)) ? 'yes' : 'NO';
  }
  return { scenario, n: input.n, fast, reference, target, identical };
}

function primitives(): string[] {
  const rnd = prng(3);
  const N = 200_000;
  const a = Array.from({ length: N }, () => Math.floor(rnd() * 2 ** 32));
  const b = Array.from({ length: N }, () => Math.floor(rnd() * 2 ** 32) + 1);
  const ab = a.map(BigInt);
  const bb = b.map(BigInt);
  let sink = 0;
  const mulN = timeMs(() => { for (let i = 0; i < N; i++) sink += mulFloor(a[i], b[i]); }, 500, 20).cpu;
  const mulB = timeMs(() => { for (let i = 0; i < N; i++) sink += Number(satMul(ab[i], bb[i]) & 1n); }, 500, 20).cpu;
  const divN = timeMs(() => { for (let i = 0; i < N; i++) sink += divTrunc(a[i], b[i]); }, 500, 20).cpu;
  const divB = timeMs(() => { for (let i = 0; i < N; i++) sink += Number(safeDiv(ab[i], bb[i]) & 1n); }, 500, 20).cpu;
  void sink;
  const ns = (ms: number) => `${((ms * 1e6) / N).toFixed(1)} ns`;
  return [
    `I32F32 mul: split-integer Number ${ns(mulN)}/op, BigInt ${ns(mulB)}/op → ${(mulB / mulN).toFixed(1)}× faster`,
    `I32F32 div: chunked long division ${ns(divN)}/op, BigInt ${ns(divB)}/op → ${(divB / divN).toFixed(1)}× faster`,
  ];
}

export async function run(): Promise<void> {
  const meta = metagraphSchema.parse(JSON.parse(readFileSync(METAGRAPH, 'utf8')));
  const rows: Row[] = [
    bench('sn15 mainnet, original Yuma', metagraphToEpochInput(meta, { yuma3: false }), 2, true),
    bench('sn15 mainnet, Yuma 3', metagraphToEpochInput(meta, { yuma3: true }), 2, true),
    bench('sn15 mainnet, Yuma 3 + liquid alpha', metagraphToEpochInput(meta, { yuma3: true, liquidAlpha: true }), 2, true),
    bench('synthetic 256 val / 10 %, original Yuma', syntheticEpochInput(4096, 256, 0.1, 1, { yuma3: false }), 100, true),
    bench('synthetic 256 val / 10 %, Yuma 3', syntheticEpochInput(4096, 256, 0.1, 1, { yuma3: true }), 100, true),
    // the reference computes all n² liquid alphas (16.7 M sigmoids at n = 4096): too slow to time here
    bench('synthetic 256 val / 10 %, Yuma 3 + liquid alpha', syntheticEpochInput(4096, 256, 0.1, 1, { yuma3: true, liquidAlpha: true }), 100, false),
  ];
  const header = ['scenario', 'n', 'runEpoch wall ms', 'cpu ms', 'reference wall ms', 'speed-up', 'target (cpu)', 'identical'];
  const body = rows.map((r) => [
    r.scenario, String(r.n), r.fast.wall.toFixed(2), r.fast.cpu.toFixed(2),
    r.reference === null ? '—' : r.reference.toFixed(1),
    r.reference === null ? '—' : `${(r.reference / r.fast.wall).toFixed(0)}×`,
    `≤ ${r.target} ms ${r.fast.cpu <= r.target ? 'ok' : 'MISSED'}`, r.identical,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
  const [load1] = loadavg();
  process.stdout.write(`(medians per epoch; reference = straightforward BigInt port of epoch_mechanism; load average ${load1.toFixed(1)} on ${cpus().length} cores)\n`);
  for (const l of primitives()) process.stdout.write(`${l}\n`);
}
