import type { MinerSide } from '../../../framework/commodity/index.ts';
import type { PredictionEvent } from './events.ts';
import type { Strategy } from './forecasters.ts';
import { commitmentOf, newSalt, verifyReceipt, type Forecast, type Receipt } from './seal.ts';
import type { PredictionQuery, PredictionResponse } from './wire.ts';

interface Sealed {
  event: PredictionEvent;
  forecast: Forecast;
  salt: string;
  commitment: string;
}

export interface PredictionMiner extends MinerSide<PredictionQuery, PredictionResponse> {
  /** Receipts collected from validators, by event id (proof that a forecast was in before the cutoff). */
  receipts(): Map<string, Receipt[]>;
}

/**
 * The miner side of the protocol around any strategy: forecast once per event on the first commit
 * request (or later, if the strategy waits), keep forecast and salt to itself, answer commit requests
 * with the commitment only, and reveal only once the event's cutoff has passed — to anyone asking then,
 * because after the cutoff no new commitment is accepted. `hotkey` is the miner's own (bound into the hash).
 */
export function predictionMiner(hotkey: string, strategy: Strategy, opts: { now?: () => number; answerWithinMs?: number } = {}): PredictionMiner {
  const now = opts.now ?? Date.now;
  const answerWithinMs = opts.answerWithinMs ?? 500;
  const sealed = new Map<string, Sealed>();
  const working = new Map<string, Promise<void>>();
  const receipts = new Map<string, Receipt[]>();
  const prune = (t: number) => {
    for (const [id, s] of sealed) if (s.event.resolveAt < t - 600_000) sealed.delete(id);
    for (const id of receipts.keys()) if (!sealed.has(id)) receipts.delete(id);
  };
  return {
    receipts: () => receipts,
    async handle(q) {
      const t = now();
      if (q.phase === 'commit') {
        prune(t);
        // forecast new events concurrently and in the background: answer with what is sealed within
        // `answerWithinMs`; a slower forecast (data over HTTP on a busy machine) is committed at the next ask
        const fresh = q.events.filter((e) => t < e.cutoffAt && !sealed.has(e.id) && !working.has(e.id));
        for (const event of fresh) {
          working.set(event.id, (async () => {
            try {
              const forecast = await strategy(event, t);
              if (!forecast || sealed.has(event.id)) return;
              const salt = newSalt();
              sealed.set(event.id, { event, forecast, salt, commitment: commitmentOf(hotkey, event.id, salt, forecast) });
            } catch {
              // a failing strategy forecasts nothing for this event
            } finally {
              working.delete(event.id);
            }
          })());
        }
        const waiting = q.events.map((e) => working.get(e.id)).filter((p): p is Promise<void> => p !== undefined);
        if (waiting.length > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([Promise.all(waiting), new Promise<void>((r) => (timer = setTimeout(r, answerWithinMs)))]);
          clearTimeout(timer);
        }
        const commits: Array<{ eventId: string; commitment: string }> = [];
        for (const event of q.events) {
          const s = t < event.cutoffAt ? sealed.get(event.id) : undefined;
          if (s) commits.push({ eventId: event.id, commitment: s.commitment });
        }
        return { commits };
      }
      const reveals: Array<{ eventId: string; salt: string; forecast: Forecast }> = [];
      for (const r of q.reveal) {
        const s = sealed.get(r.eventId);
        // sealed until the cutoff by our own clock, whatever the request claims
        if (!s || t < s.event.cutoffAt || r.commitment !== s.commitment) continue;
        if (verifyReceipt(r.receipt, hotkey, r.eventId, s.commitment, s.event.cutoffAt)) {
          const list = receipts.get(r.eventId) ?? [];
          if (!list.some((x) => x.validator === r.receipt.validator)) list.push(r.receipt);
          receipts.set(r.eventId, list);
        }
        reveals.push({ eventId: r.eventId, salt: s.salt, forecast: s.forecast });
      }
      return { reveals };
    },
  };
}

/** A miner that never answers: holds every request until the caller gives up. */
export function silentMiner(): MinerSide<PredictionQuery, PredictionResponse> {
  return {
    handle: (_q, ctx) =>
      new Promise<PredictionResponse>((resolve) => {
        const done = () => resolve({});
        if (ctx.signal.aborted) done();
        else ctx.signal.addEventListener('abort', done, { once: true });
      }),
  };
}
