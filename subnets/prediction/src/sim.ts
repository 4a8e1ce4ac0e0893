import type { EventSource, PredictionEvent, Resolution } from './events.ts';
import { FastRng, normCdf } from './random.ts';

/**
 * A seeded market for localnet, tests and demos. Each asset's log-price moves in discrete steps with
 *  - drift episodes: a drift μ per step, constant for `episodeSteps`, announced through a noisy public
 *    `signal` (μ + noise) at the episode's start;
 *  - two volatility regimes (calm/stormy, Markov switching) and Poisson jumps.
 * The market prices events with the long-run volatility and only `signalWeight` of the signal: it is
 * informative but beatable by a forecaster who reads the tape (current regime) and trusts the signal.
 * Time is compressed: step k happens at `t0 + k·stepMs`; a price is public once its time has passed.
 */
export interface SimConfig {
  seed: string;
  t0: number;
  assets?: string[];
  stepMs?: number;
  /** A batch of events (one binary per asset, plus one paths event) opens this often. */
  eventEveryMs?: number;
  /** Open → cutoff. */
  cutoffMs?: number;
  /** Cutoff → resolution. */
  horizonMs?: number;
  /** The feed publishes an outcome this long after resolveAt (so validators meet a lagging source). */
  outcomeLagMs?: number;
  /** Fraction of events the source cannot resolve (void: no one is scored). */
  voidRate?: number;
  /** Paths events: points per path and paths per forecast. */
  pathPoints?: number;
  numPaths?: number;
  /** Share of the public signal the market prices in (0 = ignores it, 1 = fully). */
  signalWeight?: number;
  /** Events stay listed this long after resolving. */
  retainMs?: number;
  /** Open only this many batches (a finite run, e.g. a soak that must drain); default unbounded. */
  maxBatches?: number;
}

export const SIM_DEFAULTS = {
  assets: ['BTC', 'ETH', 'TAO', 'SOL', 'DOT', 'ADA'],
  stepMs: 100,
  eventEveryMs: 2000,
  cutoffMs: 4000,
  horizonMs: 3000,
  outcomeLagMs: 500,
  voidRate: 0.03,
  pathPoints: 6,
  numPaths: 32,
  signalWeight: 0.1,
  retainMs: 30_000,
  maxBatches: Number.POSITIVE_INFINITY,
} as const;

// per-step process parameters
const SIGMA_CALM = 0.004;
const SIGMA_STORM = 0.014;
const P_SWITCH = 0.01;
const JUMP_P = 0.02;
const JUMP_SD = 0.02;
const DRIFT_SD = 0.003;
const SIGNAL_NOISE = 0.0008;
export const EPISODE_STEPS = 120;
/** The market's (constant) per-step variance: both regimes equally likely, plus jumps. */
export const MARKET_VAR = 0.5 * (SIGMA_CALM ** 2 + SIGMA_STORM ** 2) + JUMP_P * JUMP_SD ** 2;
export const JUMP_VAR = JUMP_P * JUMP_SD ** 2;

interface AssetPath {
  logPrice: number[];
  signal: number[]; // public at each step: the current episode's signal
  rng: FastRng;
  regime: 0 | 1;
  drift: number;
}

/** What a forecaster can see of one asset at a time: prices up to now and the current signal. */
export interface Tape {
  asset: string;
  stepMs: number;
  t0: number;
  /** Step index of the last price. */
  step: number;
  /** The last ≤ 64 prices, oldest first, ending at `step`. */
  prices: number[];
  /** The current drift episode's public signal (per-step drift + noise), valid until step `signalUntil`. */
  signal: number;
  signalUntil: number;
  /** The market's (constant) per-step variance, and the jump part of it (public knowledge). */
  marketVar: number;
  jumpVar: number;
}

export class MarketSim implements EventSource {
  readonly cfg: Required<SimConfig>;
  private readonly paths = new Map<string, AssetPath>();

  constructor(cfg: SimConfig) {
    this.cfg = { ...SIM_DEFAULTS, ...cfg, assets: cfg.assets ?? [...SIM_DEFAULTS.assets] } as Required<SimConfig>;
    if (this.cfg.cutoffMs < this.cfg.stepMs || this.cfg.horizonMs < this.cfg.stepMs * this.cfg.pathPoints) throw new RangeError('sim: cutoff and horizon must span whole steps');
  }

  stepAt(time: number): number {
    return Math.max(0, Math.floor((time - this.cfg.t0) / this.cfg.stepMs));
  }

  private path(asset: string, upTo: number): AssetPath {
    let p = this.paths.get(asset);
    if (!p) {
      p = { logPrice: [Math.log(100)], signal: [], rng: new FastRng(`${this.cfg.seed}/${asset}`), regime: 0, drift: 0 };
      this.paths.set(asset, p);
    }
    while (p.logPrice.length <= upTo + 1) {
      const k = p.logPrice.length - 1;
      if (k % EPISODE_STEPS === 0) {
        p.drift = DRIFT_SD * p.rng.normal();
        p.signal[k] = p.drift + SIGNAL_NOISE * p.rng.normal();
      } else p.signal[k] = p.signal[k - 1]!;
      if (p.rng.bool(P_SWITCH)) p.regime = p.regime === 0 ? 1 : 0;
      const sigma = p.regime === 0 ? SIGMA_CALM : SIGMA_STORM;
      const jump = p.rng.bool(JUMP_P) ? JUMP_SD * p.rng.normal() : 0;
      p.logPrice.push(p.logPrice[k]! + p.drift - 0.5 * sigma * sigma + sigma * p.rng.normal() + jump);
    }
    return p;
  }

  /** Price at step k (whether or not it is public yet: validators use `resolution`, forecasters `tape`). */
  price(asset: string, k: number): number {
    return Math.exp(this.path(asset, k).logPrice[k]!);
  }

  tape(asset: string, now: number): Tape | null {
    if (!this.cfg.assets.includes(asset)) return null;
    const step = this.stepAt(now);
    const p = this.path(asset, step);
    const from = Math.max(0, step - 63);
    return {
      asset, stepMs: this.cfg.stepMs, t0: this.cfg.t0, step,
      prices: p.logPrice.slice(from, step + 1).map(Math.exp),
      signal: p.signal[step]!,
      signalUntil: (Math.floor(step / EPISODE_STEPS) + 1) * EPISODE_STEPS,
      marketVar: MARKET_VAR,
      jumpVar: JUMP_VAR,
    };
  }

  private batchTimes(b: number) {
    const openAt = this.cfg.t0 + this.cfg.stepMs * 40 + b * this.cfg.eventEveryMs; // 40 steps of history first
    const cutoffAt = openAt + this.cfg.cutoffMs;
    return { openAt, cutoffAt, resolveAt: cutoffAt + this.cfg.horizonMs };
  }

  /** The events of batch b: one "above K at T" per asset and one paths question on a rotating asset. */
  batch(b: number): PredictionEvent[] {
    const { openAt, cutoffAt, resolveAt } = this.batchTimes(b);
    const kOpen = this.stepAt(openAt);
    const kRes = this.stepAt(resolveAt);
    const h = kRes - kOpen;
    const rng = new FastRng(`${this.cfg.seed}/batch/${b}`);
    const out: PredictionEvent[] = [];
    const w = this.cfg.signalWeight;
    for (const asset of this.cfg.assets) {
      const p = this.path(asset, kOpen);
      const s0 = Math.exp(p.logPrice[kOpen]!);
      const sig = p.signal[kOpen]!;
      const spread = Math.sqrt(MARKET_VAR * h);
      const strike = s0 * Math.exp(spread * 1.2 * rng.normal());
      const z = (Math.log(s0 / strike) + (w * sig - 0.5 * MARKET_VAR) * h) / spread;
      out.push({
        id: `${this.cfg.seed}.b${b}.${asset}.bin`, kind: 'binary', asset, question: `${asset} above ${strike.toFixed(4)} at ${new Date(resolveAt).toISOString()}?`,
        openAt, cutoffAt, resolveAt, strike, market: Math.min(0.99, Math.max(0.01, normCdf(z))),
      });
    }
    const asset = this.cfg.assets[b % this.cfg.assets.length]!;
    const p = this.path(asset, kOpen);
    const n = this.cfg.pathPoints;
    const at = Array.from({ length: n }, (_, i) => cutoffAt + Math.round(((i + 1) * (resolveAt - cutoffAt)) / n));
    const sig = p.signal[kOpen]!;
    const steps = at.map((t) => this.stepAt(t) - kOpen);
    out.push({
      id: `${this.cfg.seed}.b${b}.${asset}.paths`, kind: 'paths', asset, question: `${asset} price paths`, openAt, cutoffAt, resolveAt,
      refPrice: Math.exp(p.logPrice[kOpen]!), at, numPaths: this.cfg.numPaths,
      baseline: { mean: steps.map((s) => 1e4 * (w * sig - 0.5 * MARKET_VAR) * s), sd: steps.map((s) => 1e4 * Math.sqrt(MARKET_VAR * s)) },
    });
    return out;
  }

  /** Batches that have opened by `now` and are still retained. */
  private openedBatches(now: number): number[] {
    const last = Math.min(this.cfg.maxBatches - 1, Math.floor((now - this.batchTimes(0).openAt) / this.cfg.eventEveryMs));
    const out: number[] = [];
    for (let b = Math.max(0, last); b >= 0; b--) {
      if (this.batchTimes(b).resolveAt < now - this.cfg.retainMs) break;
      if (this.batchTimes(b).openAt <= now) out.push(b);
    }
    return out.reverse();
  }

  async events(now: number): Promise<PredictionEvent[]> {
    return this.openedBatches(now).flatMap((b) => this.batch(b));
  }

  /** The true outcome once it is published (resolveAt + lag), else null. Deterministic per event. */
  async resolution(id: string, now: number): Promise<Resolution | null> {
    return this.resolveNow(id, now);
  }

  resolveNow(id: string, now: number): Resolution | null {
    const m = /^(.*)\.b(\d+)\.([^.]+)\.(bin|paths)$/.exec(id);
    if (!m || m[1] !== this.cfg.seed) return { status: 'void', reason: 'unknown event' };
    const b = Number(m[2]);
    const event = this.batch(b).find((e) => e.id === id);
    if (!event) return { status: 'void', reason: 'unknown event' };
    if (now < event.resolveAt + this.cfg.outcomeLagMs) return null;
    if (new FastRng(`${this.cfg.seed}/void/${id}`).bool(this.cfg.voidRate)) return { status: 'void', reason: 'price feed gap' };
    const asset = event.asset!;
    if (event.kind === 'binary') return { status: 'resolved', outcome: this.price(asset, this.stepAt(event.resolveAt)) > event.strike! ? 1 : 0 };
    return { status: 'resolved', prices: event.at.map((t) => this.price(asset, this.stepAt(t))) };
  }

  /** The feed document (JSON feed schema v1) as of `now`: what `serveSimFeed` publishes. */
  async feed(now: number): Promise<{ version: 1; generatedAt: number; events: Array<PredictionEvent & { resolution?: Resolution }> }> {
    const events = await this.events(now);
    return {
      version: 1, generatedAt: now,
      events: events.map((e) => {
        const r = this.resolveNow(e.id, now);
        return r ? { ...e, resolution: r } : e;
      }),
    };
  }
}
