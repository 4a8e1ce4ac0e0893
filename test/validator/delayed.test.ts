import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommodity, retryLater } from '../../framework/commodity/define.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { makeNet, silent, waitFor } from './support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('prediction-style delayed scoring', () => {
  it('keeps a task pending while the oracle has no outcome (retryLater), then scores it once', async () => {
    const net = await makeNet({ miners: 2, tag: 'oracle', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    let outcome: 0 | 1 | null = null; // the event, unresolved at first
    let scoreCalls = 0;
    const market = defineCommodity({
      name: 'EventForecast',
      query: z.object({ eventId: z.string() }),
      response: z.object({ probability: z.number().min(0).max(1).nullish() }),
      timeoutMs: 1000,
      taskData: z.object({ eventId: z.string() }),
      generate: (ctx) => (ctx.round === 1 ? { query: { eventId: 'e1' }, data: { eventId: 'e1' }, resolveAt: { time: Date.now() } } : null),
      score({ answers, block }) {
        scoreCalls++;
        if (outcome === null) return retryLater({ block: block.number + 1 });
        // Brier skill: 1 − (p − o)²
        return Object.fromEntries(answers.map((a) => [a.hotkey, a.ok && a.response?.probability != null ? 1 - (a.response.probability - outcome!) ** 2 : 0]));
      },
    });
    const forecasts = [0.9, 0.2];
    for (const [i, p] of forecasts.entries()) {
      const m = await startMiner({
        chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[i], commodity: market, miner: { handle: () => ({ probability: p }) },
        axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
      });
      cleanups.push(() => m.stop());
    }
    const v = await startValidator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: market, statePath: net.dir, options: { roundIntervalMs: 50, alpha: 1, logger: silent } });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(40));
    await waitFor('a few deferrals', () => scoreCalls >= 3);
    expect(await v.state.pendingCount()).toBe(1);
    expect(v.state.scores()).toEqual({});
    outcome = 1;
    await waitFor('scored', async () => (await v.state.pendingCount()) === 0);
    const [good, bad] = net.minerHotkeys.map((k) => k.ss58Address);
    expect(v.state.scores()[good]).toBeCloseTo(1 - 0.1 ** 2);
    expect(v.state.scores()[bad]).toBeCloseTo(1 - 0.8 ** 2);
    const calls = scoreCalls;
    await net.chain.produceBlocks(3);
    expect(scoreCalls).toBe(calls); // never scored again
  });
});
