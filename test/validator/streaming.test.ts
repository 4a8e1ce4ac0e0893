import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommodity, type MinerAnswer, type MinerSide } from '../../framework/commodity/define.ts';
import { relativeSpeed } from '../../framework/commodity/scorers.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { makeNet, silent, waitFor } from './support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const query = z.object({ words: z.number().int().min(1).max(50), seed: z.number().int() });
const response = z.object({ completion: z.string().nullable().optional() });
const expected = (q: z.infer<typeof query>) => Array.from({ length: q.words }, (_, i) => `w${(q.seed + i) % 97} `).join('');

function streamer(delayMs: number, corrupt = false): MinerSide<z.infer<typeof query>, z.infer<typeof response>> {
  return {
    handle(q) {
      return (async function* () {
        for (let i = 0; i < q.words; i++) {
          await new Promise((r) => setTimeout(r, delayMs));
          // one SSE event per token, so chunk boundaries don't depend on how TCP batches writes
          yield `data: ${corrupt && i === 2 ? 'oops ' : `w${(q.seed + i) % 97} `}\n\n`;
        }
      })();
    },
  };
}

const seen: Array<MinerAnswer<z.infer<typeof query>, z.infer<typeof response>>> = [];
const tokens = defineCommodity({
  name: 'TokenStream',
  query,
  response,
  streaming: true,
  streamFraming: 'sse',
  timeoutMs: 3000,
  generate: (ctx) => ({ query: { words: 6, seed: ctx.rng.int(0, 1000) }, data: undefined }),
  score({ answers }) {
    seen.push(...answers);
    // LLM-style: correctness × relative throughput (chunks/s) among this round's correct streams
    const correct = answers.map((a) => a.ok && a.response?.completion === expected(a.query));
    const perChunkMs = answers.map((a, i) => {
      const c = a.stream?.chunks ?? [];
      return correct[i] && c.length > 1 ? (c[c.length - 1].receivedAt - c[0].receivedAt) / (c.length - 1) : null;
    });
    const speed = relativeSpeed(perChunkMs);
    return Object.fromEntries(answers.map((a, i) => [a.hotkey, correct[i] ? speed[i] : 0]));
  },
});

describe('streaming commodity', () => {
  it('gives the scorer per-chunk telemetry and rewards faster correct streams', async () => {
    const net = await makeNet({ miners: 3, tag: 'stream', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    const behaviours = [streamer(10), streamer(80), streamer(10, true)];
    for (const [i, miner] of behaviours.entries()) {
      const m = await startMiner({ chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[i], commodity: tokens, miner, axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent });
      cleanups.push(() => m.stop());
    }
    const v = await startValidator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: tokens, statePath: net.dir, options: { roundIntervalMs: 50, alpha: 0.5, logger: silent } });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(50));
    const [fast, slow, bad] = net.minerHotkeys.map((k) => k.ss58Address);
    await waitFor('a few streamed rounds', () => v.state.step >= 4 && (v.state.scores()[slow] ?? 0) > 0);
    const s = v.state.scores();
    expect(s[fast]).toBeGreaterThan(s[slow]);
    expect(s[bad]).toBe(0);
    const fastAnswer = seen.find((a) => a.hotkey === fast && a.ok)!;
    expect(fastAnswer.stream!.chunks.length).toBe(6);
    expect(fastAnswer.stream!.timeToFirstChunkMs).not.toBeNull();
    expect(fastAnswer.response?.completion).toBe(expected(fastAnswer.query));
  });
});
