import type { BinaryEvent, PathsEvent, PredictionEvent } from './events.ts';
import { FastRng, normCdf } from './random.ts';
import type { Forecast } from './seal.ts';
import type { Tape } from './sim.ts';

/**
 * Forecasting strategies: what a miner answers for one event at time `now`, or null to wait. The
 * skilled one reads the public tape; the others are the cheap strategies the adversarial harness runs.
 */
export type Strategy = (event: PredictionEvent, now: number) => Forecast | null | Promise<Forecast | null>;

/** Reads an asset's public tape (in the demo over HTTP from the simulator's server). */
export type TapeReader = (asset: string) => Promise<Tape | null>;

/**
 * Per-step diffusion variance of the current regime (which the market ignores), robust to jumps: from the
 * median absolute return of the last `window` steps (for a normal, median|r| = 0.6745 σ).
 */
export function regimeVariance(prices: readonly number[], window = 32): number | null {
  const n = Math.min(window, prices.length - 1);
  if (n < 8) return null;
  const abs: number[] = [];
  for (let i = prices.length - n; i < prices.length; i++) abs.push(Math.abs(Math.log(prices[i]! / prices[i - 1]!)));
  abs.sort((a, b) => a - b);
  const med = abs[abs.length >> 1]!;
  return (med / 0.6745) ** 2;
}

/** Expected drift (log, total) from the tape's step to `steps` ahead: the signal holds until its episode ends. */
function expectedDrift(tape: Tape, steps: number): number {
  return SIGNAL_SHRINK * tape.signal * Math.max(0, Math.min(steps, tape.signalUntil - tape.step));
}
/** E[μ | signal] for the simulator's drift and signal noise (public parameters of the process). */
const SIGNAL_SHRINK = 0.9;

function variance(tape: Tape): number {
  const v = regimeVariance(tape.prices);
  return (v ?? tape.marketVar - tape.jumpVar) + tape.jumpVar;
}

function stepsUntil(tape: Tape, time: number): number {
  return Math.max(1, Math.floor((time - tape.t0) / tape.stepMs) - tape.step);
}

export function skilledBinary(e: BinaryEvent, tape: Tape): number {
  const v = variance(tape);
  const h = stepsUntil(tape, e.resolveAt);
  const s = tape.prices[tape.prices.length - 1]!;
  const z = (Math.log(s / e.strike!) + expectedDrift(tape, h) - 0.5 * v * h) / Math.sqrt(v * h);
  return Math.min(0.98, Math.max(0.02, normCdf(z)));
}

/** Paths from the current price with the signal's drift and the current regime's variance. */
export function skilledPaths(e: PathsEvent, tape: Tape, rng: FastRng): number[][] {
  const v = variance(tape);
  const s0 = tape.prices[tape.prices.length - 1]!;
  const steps = e.at.map((t) => stepsUntil(tape, t));
  const drifts = steps.map((k) => expectedDrift(tape, k) - 0.5 * v * k);
  return Array.from({ length: e.numPaths }, () => {
    let lp = Math.log(s0);
    let prev = 0;
    return steps.map((k, j) => {
      const d = k - (j === 0 ? 0 : steps[j - 1]!);
      lp += drifts[j]! - prev + Math.sqrt(v * d) * rng.normal();
      prev = drifts[j]!;
      return Math.exp(lp);
    });
  });
}

/** Paths drawn from the market's own normal baseline (what a market copier submits). */
export function baselinePaths(e: PathsEvent, rng: FastRng): number[][] {
  return Array.from({ length: e.numPaths }, () => {
    let x = 0;
    let prevMean = 0;
    let prevVar = 0;
    return e.at.map((_, j) => {
      const mean = e.baseline.mean[j]!;
      const varj = e.baseline.sd[j]! ** 2;
      x += mean - prevMean + Math.sqrt(Math.max(varj - prevVar, 1e-12)) * rng.normal();
      prevMean = mean;
      prevVar = varj;
      return e.refPrice * Math.exp(x / 1e4);
    });
  });
}

export function skilled(readTape: TapeReader, seed = 'skilled'): Strategy {
  const rng = new FastRng(seed);
  return async (e) => {
    const tape = e.asset ? await readTape(e.asset) : null;
    if (!tape) return e.kind === 'binary' ? { p: e.market } : { paths: baselinePaths(e, rng) };
    return e.kind === 'binary' ? { p: skilledBinary(e, tape) } : { paths: skilledPaths(e, tape, rng) };
  };
}

export function marketCopier(seed = 'copier'): Strategy {
  const rng = new FastRng(seed);
  return (e) => (e.kind === 'binary' ? { p: e.market } : { paths: baselinePaths(e, rng) });
}

export function constantHalf(): Strategy {
  return (e) => (e.kind === 'binary' ? { p: 0.5 } : { paths: Array.from({ length: e.numPaths }, () => e.at.map(() => e.refPrice)) });
}

export function randomForecaster(seed = 'random'): Strategy {
  const rng = new FastRng(seed);
  return (e) => {
    if (e.kind === 'binary') return { p: rng.next() };
    const scale = 0.2 + 3 * rng.next();
    return { paths: baselinePaths({ ...e, baseline: { mean: e.baseline.mean.map(() => 0), sd: e.baseline.sd.map((s) => s * scale) } }, rng) };
  };
}

/**
 * Member `k` of an extreme-probability sybil swarm: all-in on one outcome per event. On the first
 * ⌈log2 n⌉ events each member bets a different bit pattern (one of them is right on all of them);
 * after that the direction is a hash of (member, event).
 */
export function swarmMember(k: number): Strategy {
  let seen = 0;
  return (e) => {
    const j = seen++;
    const up = j < 8 ? ((k >> j) & 1) === 1 : new FastRng(`swarm/${k}/${e.id}`).bool(0.5);
    if (e.kind === 'binary') return { p: up ? 1 : 0 };
    const price = e.at.map((_, i) => e.refPrice * Math.exp((e.baseline.mean[i]! + (up ? 3 : -3) * e.baseline.sd[i]!) / 1e4));
    return { paths: Array.from({ length: e.numPaths }, () => price) };
  };
}
