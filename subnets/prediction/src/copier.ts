import type { MinerSide } from '../../../framework/commodity/index.ts';
import type { AxonTarget, Dendrite } from '../../../framework/dendrite/index.ts';
import type { SynapseDef } from '../../../framework/protocol/synapse.ts';
import type { PredictionEvent } from './events.ts';
import { marketCopier } from './forecasters.ts';
import { commitmentOf, newSalt, type Forecast } from './seal.ts';
import type { predictionQuery, predictionResponse, PredictionQuery, PredictionResponse } from './wire.ts';

/**
 * The last-moment crowd copier (an adversary for the harness). It stays silent until `lastMomentMs`
 * before the cutoff, then calls the other miners' axons (best incentive first) over the real wire:
 *  1. asks them to reveal now — an honest miner refuses before the cutoff;
 *  2. takes a peer's commitment and submits it as its own, planning to fetch the peer's reveal after
 *     the cutoff and replay it — the validator rejects it: the hash binds the peer's hotkey.
 * With no peer commitment it falls back to committing the market. `stats` says what it obtained.
 */
export interface CrowdCopier extends MinerSide<PredictionQuery, PredictionResponse> {
  stats: { earlyReveals: number; replayed: number; replayOpened: number; fallback: number };
}

type Syn = SynapseDef<(typeof predictionQuery)['shape'], (typeof predictionResponse)['shape']>;

export function crowdCopier(opts: {
  hotkey: string;
  dendrite: Dendrite;
  synapse: Syn;
  /** Peers to copy from, best first (e.g. by on-chain incentive). */
  peers: () => Promise<AxonTarget[]>;
  lastMomentMs?: number;
}): CrowdCopier {
  const lastMoment = opts.lastMomentMs ?? 400;
  const market = marketCopier('crowd');
  const stats = { earlyReveals: 0, replayed: 0, replayOpened: 0, fallback: 0 };
  const plans = new Map<string, { event: PredictionEvent; commitment: string; peer?: AxonTarget; own?: { salt: string; forecast: Forecast } }>();
  const fakeReceipt = { validator: opts.hotkey, acceptedAt: 0, scheme: 'sr25519' as const, signature: `0x${'0'.repeat(128)}` };
  const call = (peer: AxonTarget, q: PredictionQuery) => opts.dendrite.call(peer, opts.synapse, q, { timeoutMs: 300 });

  async function plan(event: PredictionEvent): Promise<void> {
    const peers = (await opts.peers()).filter((p) => p.hotkey !== opts.hotkey).slice(0, 8);
    for (const peer of peers) {
      const c = await call(peer, { phase: 'commit', events: [event], reveal: [] });
      const commitment = c.response?.commits?.find((x) => x.eventId === event.id)?.commitment;
      if (!commitment) continue;
      const early = await call(peer, { phase: 'reveal', events: [], reveal: [{ eventId: event.id, commitment, cutoffAt: event.cutoffAt, receipt: fakeReceipt }] });
      // counted only if the reveal came back while the cutoff was still ahead (one that lands after it is no use)
      if (Date.now() < event.cutoffAt && early.response?.reveals?.some((r) => r.eventId === event.id)) stats.earlyReveals++;
      stats.replayed++;
      plans.set(event.id, { event, commitment, peer });
      return;
    }
    const forecast = (await market(event, Date.now()))!;
    const salt = newSalt();
    stats.fallback++;
    plans.set(event.id, { event, commitment: commitmentOf(opts.hotkey, event.id, salt, forecast), own: { salt, forecast } });
  }

  return {
    stats,
    async handle(q) {
      const now = Date.now();
      if (q.phase === 'commit') {
        const commits = [];
        for (const e of q.events) {
          if (now < e.cutoffAt - lastMoment || now >= e.cutoffAt) continue;
          if (!plans.has(e.id)) await plan(e);
          commits.push({ eventId: e.id, commitment: plans.get(e.id)!.commitment });
        }
        return { commits };
      }
      const reveals = [];
      for (const r of q.reveal) {
        const p = plans.get(r.eventId);
        if (!p) continue;
        if (p.own) reveals.push({ eventId: r.eventId, ...p.own });
        else if (p.peer) {
          const got = await call(p.peer, { phase: 'reveal', events: [], reveal: [{ ...r, receipt: fakeReceipt }] });
          const opened = got.response?.reveals?.find((x) => x.eventId === r.eventId);
          if (opened) {
            stats.replayOpened++;
            reveals.push(opened);
          }
        }
      }
      for (const [id, p] of plans) if (p.event.resolveAt < now - 600_000) plans.delete(id);
      return { reveals };
    },
  };
}
