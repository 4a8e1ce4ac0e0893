import { describe, expect, it } from 'vitest';
import { MinerStateStore } from '../../../framework/commodity/index.ts';
import { cryptoReady, keypairFromUri } from '../../../framework/wallet/index.ts';
import { createPredictionCommodity, type PredictionMinerState } from '../src/commodity.ts';
import type { BinaryEvent, EventSource } from '../src/events.ts';
import { predictionMiner } from '../src/miner.ts';
import type { PredictionResponse } from '../src/wire.ts';

const ev = (id: string, cutoffAt: number): BinaryEvent => ({ id, kind: 'binary', question: '', openAt: 0, cutoffAt, resolveAt: cutoffAt + 1000, market: 0.5 });

describe('commit acceptance', () => {
  it('holds a silent miner to events it was asked about in time, not to ones the validator reached too late', async () => {
    await cryptoReady();
    const source: EventSource = { events: async () => [], resolution: async () => null };
    const commodity = createPredictionCommodity({ source, signer: keypairFromUri('//commit-rules/v'), commitTimeoutMs: 2000 });
    const state = new MinerStateStore<PredictionMinerState>(commodity.minerState);
    const sentAt = 10_000;
    const early = ev('early', sentAt + 5000); // a full timeout left: a silence is the miner's
    const late = ev('late', sentAt + 500); // asked 0.5 s before the cutoff: the validator's lateness
    const answered = ev('answered', sentAt + 500);
    const events = [early, late, answered].map((e) => ({ id: e.id, cutoffAt: e.cutoffAt, resolveAt: e.resolveAt }));
    const query = { phase: 'commit' as const, events: [early, late, answered], reveal: [] };
    const c = 'cd'.repeat(32);
    await commodity.score({
      task: { id: 't', round: 1, createdBlock: 0, createdAt: sentAt, data: { phase: 'commit', sentAt, events }, attempts: 0 },
      answers: [
        { uid: 1, hotkey: 'silent', ok: false, statusCode: 408, statusMessage: 'timeout', latencyMs: 2000, query, response: null },
        { uid: 2, hotkey: 'quick', ok: true, statusCode: 200, statusMessage: 'OK', latencyMs: 100, query, response: { commits: [{ eventId: 'answered', commitment: c }] } },
      ],
      block: { number: 1, hash: '0x', timestamp: 0 } as never, now: sentAt + 2000, metagraph: { hotkeys: ['v', 'silent', 'quick'] } as never, state,
    });
    expect(Object.keys(state.get('silent').open)).toEqual(['early']);
    expect(state.get('silent').open.early!.commitment).toBeNull();
    // a commitment that arrived in time is accepted even when asked late
    expect(state.get('quick').open.answered!.commitment).toBe(c);
    expect(state.get('quick').open.answered!.receipt!.acceptedAt).toBe(sentAt + 100);
    expect(state.get('quick').open.late).toBeUndefined();
  });

  it('an honest miner answers within its budget and commits a slow forecast at the next ask', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const miner = predictionMiner('5Me', async (e) => (e.id === 'slow' ? gate.then(() => ({ p: 0.3 })) : { p: 0.6 }), { answerWithinMs: 50 });
    const ctx = { signal: new AbortController().signal } as never;
    const q = { phase: 'commit' as const, events: [ev('fast', Date.now() + 60_000), ev('slow', Date.now() + 60_000)], reveal: [] };
    const first = (await miner.handle(q, ctx)) as PredictionResponse;
    expect(first.commits?.map((x) => x.eventId)).toEqual(['fast']);
    release();
    await new Promise((r) => setTimeout(r, 10));
    const second = (await miner.handle(q, ctx)) as PredictionResponse;
    expect(second.commits?.map((x) => x.eventId)).toEqual(['fast', 'slow']);
    expect(second.commits![0]!.commitment).toBe(first.commits![0]!.commitment); // a commitment is final
  });
});
