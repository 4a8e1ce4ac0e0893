import type { Chain, Metagraph } from '../chain/types.ts';
import { RAO_PER_TAO_NUMBER, u16ToUnit } from './units.ts';

/** One sample of a subnet's per-uid series, taken at `block`. */
export interface HistorySample {
  block: number;
  incentive: number[];
  dividends: number[];
  emissionTao: number[];
  stakeTao: number[];
}

export interface UidHistory {
  netuid: number;
  uid: number;
  blocks: number[];
  incentive: number[];
  dividends: number[];
  emissionTao: number[];
  stakeTao: number[];
}

export interface HistoryOptions {
  /** Samples kept per subnet (ring buffer). */
  maxPoints?: number;
  /** Subnets followed at once; the least recently viewed one is dropped first. */
  maxSubnets?: number;
  /** Take a sample every this many blocks. */
  everyBlocks?: number;
}

/**
 * Per-uid series (incentive, dividends, emission, stake) over blocks, for the explorer's charts.
 * Memory is bounded: `maxSubnets` × `maxPoints` samples. A sample is skipped while the previous read is
 * still in flight, so a slow chain never builds a backlog.
 */
export class HistoryRecorder {
  private readonly series = new Map<number, HistorySample[]>();
  private readonly maxPoints: number;
  private readonly maxSubnets: number;
  private readonly everyBlocks: number;
  private inFlight = false;
  private lastSampled = -Infinity;

  constructor(private readonly chain: Chain, opts: HistoryOptions = {}) {
    this.maxPoints = opts.maxPoints ?? 720;
    this.maxSubnets = opts.maxSubnets ?? 16;
    this.everyBlocks = opts.everyBlocks ?? 1;
  }

  /** Start (or keep) following a subnet; moves it to the most recently viewed end. */
  follow(netuid: number): void {
    const existing = this.series.get(netuid);
    this.series.delete(netuid);
    this.series.set(netuid, existing ?? []);
    while (this.series.size > this.maxSubnets) this.series.delete(this.series.keys().next().value as number);
  }

  followed(): number[] {
    return [...this.series.keys()];
  }

  /** Record `metagraph` directly (also used after a page load read it anyway). */
  record(metagraph: Metagraph): void {
    const samples = this.series.get(metagraph.netuid);
    if (!samples) return;
    const last = samples[samples.length - 1];
    if (last && last.block >= metagraph.block) return;
    samples.push({
      block: metagraph.block,
      incentive: metagraph.incentive.map(u16ToUnit),
      dividends: metagraph.dividends.map(u16ToUnit),
      emissionTao: metagraph.emission.map((e) => Number(e) / RAO_PER_TAO_NUMBER),
      stakeTao: metagraph.stake.map((s) => Number(s) / RAO_PER_TAO_NUMBER),
    });
    if (samples.length > this.maxPoints) samples.splice(0, samples.length - this.maxPoints);
  }

  /** Called per block: reads the followed subnets' metagraphs unless a read is still running. */
  async onBlock(block: number): Promise<void> {
    if (this.inFlight || block - this.lastSampled < this.everyBlocks) return;
    this.inFlight = true;
    this.lastSampled = block;
    try {
      for (const netuid of this.followed()) {
        try {
          this.record(await this.chain.getMetagraph(netuid));
        } catch {
          // A subnet that disappeared or a chain hiccup: the next block tries again.
        }
      }
    } finally {
      this.inFlight = false;
    }
  }

  uid(netuid: number, uid: number): UidHistory {
    const samples = this.series.get(netuid) ?? [];
    const pick = (key: 'incentive' | 'dividends' | 'emissionTao' | 'stakeTao') => samples.map((s) => s[key][uid] ?? 0);
    return {
      netuid,
      uid,
      blocks: samples.map((s) => s.block),
      incentive: pick('incentive'),
      dividends: pick('dividends'),
      emissionTao: pick('emissionTao'),
      stakeTao: pick('stakeTao'),
    };
  }
}
