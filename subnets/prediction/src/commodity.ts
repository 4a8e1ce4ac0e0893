/**
 * The prediction commodity (SN6 / SN50 style), the one file to read: what validators ask, how answers
 * are sealed and receipted, when they are scored, and how scores become weights. Parts:
 *   events.ts (event model, EventSource) · sim.ts (seeded market) · feed.ts (JSON feed adapter)
 *   wire.ts (synapse schemas) · seal.ts (commit–reveal, receipts) · scoring.ts (Brier, log, CRPS)
 *   ledger.ts (window, coverage, pessimistic bound, payout) · miner.ts / forecasters.ts (miner side)
 *
 * One event's life, on one validator:
 *   open → cutoff   every round, a `commit` task asks all serving miners for commitments to the open
 *                   events; each accepted commitment gets a signed receipt (acceptance time ≤ cutoff).
 *   cutoff          a `reveal` task asks each miner that committed to open its commitments (with the
 *                   receipts); its answers wait in the framework's durable pending store until
 *   resolveAt       the source's outcome: scored once (`retryLater` while the source lags), skill
 *                   = market loss − miner loss, appended to the miner's rolling window.
 */
import { z } from 'zod';
import { defineCommodity, retryLater, type Commodity, type Rewards } from '../../../framework/commodity/index.ts';
import type { Keypair } from '../../../framework/wallet/index.ts';
import { predictionEvent, type EventSource, type PredictionEvent, type Resolution } from './events.ts';
import { LEDGER_DEFAULTS, ledgerEntry, margin, payoutTransform, recordEntry, standing, type LedgerConfig, type Payout } from './ledger.ts';
import { binarySkill, pathsSkill, type BinaryRule } from './scoring.ts';
import { commitmentOf, hex32, receiptSchema, signReceipt, type Forecast } from './seal.ts';
import { MAX_EVENTS_PER_QUERY, predictionQuery, predictionResponse, type PredictionQuery, type PredictionResponse } from './wire.ts';

export interface PredictionConfig {
  /** Where events and outcomes come from (validators only). */
  source?: EventSource;
  /** The validator's hotkey, which signs receipts (validators only). */
  signer?: Keypair;
  /** Binary scoring rule (default Brier, as SN6 Numinous). */
  rule?: BinaryRule;
  ledger?: Partial<LedgerConfig>;
  /** Default margin² (SN6); or softmax over positive margins. */
  payout?: Payout;
  /** Uid that receives all weight when nobody beats the market (the owner's: burned). null = set no weights then. */
  burnUid?: number | null;
  timeoutMs?: number;
  /** Timeout of commit requests (short: a round waits for its slowest miner, and the cutoff does not). */
  commitTimeoutMs?: number;
  /** Ask for reveals this long after the cutoff (clock skew between validator and miners). */
  revealGraceMs?: number;
  /** First look for the outcome this long after resolveAt (a source's usual publication lag: fewer retries). */
  settleMs?: number;
  /** While the source has no outcome, retry this often… */
  retryMs?: number;
  /** …until this long after resolveAt; then the event is void: nobody is scored (a data gap is not the miners' fault). */
  giveUpAfterMs?: number;
}

const openEntry = z
  .object({ cutoffAt: z.number(), resolveAt: z.number(), commitment: hex32.nullable(), receipt: receiptSchema.nullable() })
  .strict();
export const predictionMinerState = z.object({ open: z.record(openEntry), window: z.array(ledgerEntry) }).strict();
export type PredictionMinerState = z.infer<typeof predictionMinerState>;
const MAX_OPEN = 4 * MAX_EVENTS_PER_QUERY;

const commitData = z.object({ phase: z.literal('commit'), sentAt: z.number(), events: z.array(z.object({ id: z.string(), cutoffAt: z.number(), resolveAt: z.number() })) });
const revealData = z.object({
  phase: z.literal('reveal'),
  events: z.array(predictionEvent),
  /** Every miner asked about these events → its commitment per event (null = asked, never committed). */
  expected: z.record(z.record(hex32.nullable())),
});
export const predictionTaskData = z.discriminatedUnion('phase', [commitData, revealData]);
export type PredictionTaskData = z.infer<typeof predictionTaskData>;

/** Skill of one opened forecast, or null when the forecast does not fit the question (counts as missed). */
export function skillOf(event: PredictionEvent, f: Forecast, r: Extract<Resolution, { status: 'resolved' }>, rule: BinaryRule): number | null {
  if (event.kind === 'binary') return 'p' in f && 'outcome' in r ? binarySkill(event, f.p, r.outcome, rule) : null;
  if (!('paths' in f) || !('prices' in r) || r.prices.length !== event.at.length) return null;
  if (f.paths.length !== event.numPaths || f.paths.some((p) => p.length !== event.at.length)) return null;
  return pathsSkill(event, f.paths, r.prices);
}

export type PredictionCommodity = Commodity<(typeof predictionQuery)['shape'], (typeof predictionResponse)['shape'], PredictionTaskData, PredictionMinerState>;

export function createPredictionCommodity(cfg: PredictionConfig = {}): PredictionCommodity {
  const ledger: LedgerConfig = { ...LEDGER_DEFAULTS, ...cfg.ledger };
  const rule = cfg.rule ?? 'brier';
  const grace = cfg.revealGraceMs ?? 100;
  const retryMs = cfg.retryMs ?? 250;
  const giveUpAfterMs = cfg.giveUpAfterMs ?? 60_000;
  const commitTimeoutMs = cfg.commitTimeoutMs ?? 2000;
  const settleMs = cfg.settleMs ?? 0;
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`prediction commodity: validators need \`${what}\``);
    return v;
  };

  return defineCommodity({
    name: 'PredictionSynapse',
    query: predictionQuery,
    response: predictionResponse,
    timeoutMs: cfg.timeoutMs ?? 1500,
    sampleSize: 256,
    taskData: predictionTaskData,
    minerState: { schema: predictionMinerState, initial: () => ({ open: {}, window: [] }) },

    async generate(ctx) {
      const source = need(cfg.source, 'source');
      const signer = need(cfg.signer, 'signer');
      const known = await source.events(ctx.now);
      const tasks = [];

      // 1. open events: ask every serving miner for the commitments it has not given yet (a commitment is
      //    final: re-asking those who answered would only cost requests)
      const open = known.filter((e) => e.openAt <= ctx.now && ctx.now < e.cutoffAt).slice(0, MAX_EVENTS_PER_QUERY);
      const missing = (hotkey: string) => {
        const st = ctx.state.has(hotkey) ? ctx.state.get(hotkey).open : {};
        return open.filter((e) => !st[e.id]?.commitment);
      };
      const askUids = ctx.sample(ctx.metagraph.n).filter((uid) => missing(ctx.metagraph.hotkeys[uid]!).length > 0);
      if (askUids.length > 0) {
        tasks.push({
          query: (t: { hotkey: string }) => ({ phase: 'commit' as const, events: missing(t.hotkey), reveal: [] }),
          data: { phase: 'commit' as const, sentAt: ctx.now, events: open.map((e) => ({ id: e.id, cutoffAt: e.cutoffAt, resolveAt: e.resolveAt })) },
          uids: askUids,
          timeoutMs: commitTimeoutMs,
        });
      }

      // 2. closed events: move every miner's entries into one reveal task per resolution time
      const byId = new Map(known.map((e) => [e.id, e]));
      const stored = new Map<string, z.infer<typeof receiptSchema>>();
      const groups = new Map<number, { events: Map<string, PredictionEvent>; expected: Record<string, Record<string, string | null>> }>();
      for (const hotkey of ctx.state.hotkeys()) {
        const st = ctx.state.get(hotkey);
        const due = Object.entries(st.open).filter(([, o]) => o.cutoffAt + grace <= ctx.now);
        if (due.length === 0) continue;
        for (const [id, o] of due) {
          const event = byId.get(id);
          if (!event) continue; // the source forgot it: nothing to score, no one penalized
          const g = groups.get(event.resolveAt) ?? { events: new Map<string, PredictionEvent>(), expected: {} as Record<string, Record<string, string | null>> };
          groups.set(event.resolveAt, g);
          g.events.set(id, event);
          (g.expected[hotkey] ??= {})[id] = o.commitment;
          if (o.receipt) stored.set(`${hotkey}/${id}`, o.receipt);
        }
        ctx.state.set(hotkey, { ...st, open: Object.fromEntries(Object.entries(st.open).filter(([, o]) => o.cutoffAt + grace > ctx.now)) });
      }
      const uidOf = new Map(ctx.metagraph.hotkeys.map((hk, uid) => [hk, uid]));
      for (const [resolveAt, g] of groups) {
        const receipts = new Map<string, PredictionQuery['reveal']>();
        for (const [hotkey, entries] of Object.entries(g.expected)) {
          const list: PredictionQuery['reveal'] = [];
          for (const [id, commitment] of Object.entries(entries)) {
            if (commitment === null) continue;
            const event = g.events.get(id)!;
            const receipt = stored.get(`${hotkey}/${id}`) ?? signReceipt(signer, hotkey, id, commitment, event.cutoffAt);
            list.push({ eventId: id, commitment, cutoffAt: event.cutoffAt, receipt });
          }
          // asked-but-silent miners are asked too (an empty list): their misses are recorded either way
          receipts.set(hotkey, list.slice(0, MAX_EVENTS_PER_QUERY));
        }
        tasks.push({
          query: (t: { hotkey: string }) => ({ phase: 'reveal' as const, events: [], reveal: receipts.get(t.hotkey) ?? [] }),
          data: { phase: 'reveal' as const, events: [...g.events.values()], expected: g.expected },
          uids: [...receipts.keys()].map((hk) => uidOf.get(hk)).filter((u): u is number => u !== undefined),
          resolveAt: { time: resolveAt + settleMs },
        });
      }
      return tasks;
    },

    async score({ task, answers, now, metagraph, state }): Promise<Rewards | ReturnType<typeof retryLater>> {
      const data = task.data;
      if (data.phase === 'commit') {
        // record who was asked about what, and accepted commitments (the first before the cutoff), each with a receipt
        const signer = need(cfg.signer, 'signer');
        for (const a of answers) {
          // accepted when the answer arrived (by the validator's clock), not when the slowest miner did
          const arrivedAt = Math.round(data.sentAt + Math.max(0, a.latencyMs));
          const commits = new Map((a.ok ? (a.response?.commits ?? []) : []).map((c) => [c.eventId, c.commitment]));
          state.update(a.hotkey, (st) => {
            const open = { ...st.open };
            const asked = new Set(a.query.events.map((e) => e.id));
            for (const e of data.events) {
              if (!asked.has(e.id)) continue;
              const prev = open[e.id] ?? { cutoffAt: e.cutoffAt, resolveAt: e.resolveAt, commitment: null, receipt: null };
              const c = commits.get(e.id);
              if (c !== undefined && arrivedAt <= e.cutoffAt && prev.commitment === null) {
                open[e.id] = { ...prev, commitment: c, receipt: signReceipt(signer, a.hotkey, e.id, c, arrivedAt) };
              } else if (open[e.id] || data.sentAt + commitTimeoutMs <= e.cutoffAt) open[e.id] = prev;
              // else: first asked too close to the cutoff for a full timeout — the validator was late, not the miner: no miss
            }
            const ids = Object.keys(open);
            for (const id of ids.slice(0, Math.max(0, ids.length - MAX_OPEN))) delete open[id];
            return { ...st, open };
          });
        }
        return {};
      }

      // reveal: wait for every outcome (or give up on it: void), then score each (miner, event) once
      const source = need(cfg.source, 'source');
      const outcomes = new Map<string, Extract<Resolution, { status: 'resolved' }> | null>();
      for (const e of data.events) {
        const r = await source.resolution(e.id, now);
        if (r === null && now < e.resolveAt + giveUpAfterMs) return retryLater({ time: now + retryMs });
        outcomes.set(e.id, r?.status === 'resolved' ? r : null);
      }
      const reveals = new Map(answers.map((a) => [a.hotkey, new Map((a.ok ? (a.response?.reveals ?? []) : []).map((r) => [r.eventId, r]))]));
      const members = new Set(metagraph.hotkeys);
      const rewards: Rewards = {};
      for (const [hotkey, entries] of Object.entries(data.expected)) {
        if (!members.has(hotkey)) continue;
        let window = state.get(hotkey).window;
        for (const e of data.events) {
          if (!(e.id in entries)) continue;
          const outcome = outcomes.get(e.id);
          if (!outcome) continue; // void: no entry for anyone
          const commitment = entries[e.id];
          const r = reveals.get(hotkey)?.get(e.id);
          const opened = r && commitment && commitmentOf(hotkey, e.id, r.salt, r.forecast) === commitment ? r.forecast : null;
          window = recordEntry(window, { id: e.id, at: e.resolveAt, skill: opened ? skillOf(e, opened, outcome, rule) : null }, ledger.windowEvents);
        }
        state.update(hotkey, (st) => ({ ...st, window }));
        rewards[hotkey] = margin(standing(window, ledger));
      }
      return rewards;
    },

    // the window already is the memory: the validator's score is the current margin, not an EMA of it
    aggregate: ({ reward }) => reward,
    toWeights: payoutTransform(cfg.payout ?? { kind: 'margin2' }, cfg.burnUid === undefined ? 0 : cfg.burnUid),
  });
}

export { predictionQuery, predictionResponse, type PredictionQuery, type PredictionResponse };
