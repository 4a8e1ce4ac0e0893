/**
 * A streaming commodity (LLM-style: tokens as SSE events, scored on correctness × relative speed from the
 * per-chunk timestamps) on the split validator: the worker streams, the scorer gets the same telemetry as in
 * the embedded validator, and the shared scores rank fast > slow > wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { startCoordinator, startScaleWorker } from '../../framework/scale/index.ts';
import { makeNet, silent, waitFor, type TestNet } from '../validator/support.ts';
import { requireRedisServer, TestRedis } from './redis.ts';
import { expectedWords, wordStreamCommodity, wordStreamer } from '../support/token-stream.ts';

const available = requireRedisServer('split validator: streaming commodity');

const { commodity: tokens, seen } = wordStreamCommodity('SplitTokenStream');

describe.skipIf(!available)('split validator with a streaming commodity', () => {
  let redis: TestRedis;
  let net: TestNet;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await redis?.down();
  });

  it('the worker streams each miner, the scorer sees per-chunk telemetry, shared scores rank fast > slow > wrong', async () => {
    net = await makeNet({ miners: 3, tag: 'scale-stream', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    const miners: MinerHandle[] = [];
    for (const [i, side] of [wordStreamer(10), wordStreamer(80), wordStreamer(10, true)].entries()) {
      const m = await startMiner({ chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[i]!, commodity: tokens, miner: side, axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent });
      miners.push(m);
      cleanups.push(() => m.stop());
    }
    cleanups.push(net.drive(50));
    const c = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: tokens, redisUrl: redis.url, options: { roundIntervalMs: 50, alpha: 0.5, logger: silent } });
    cleanups.push(() => c.stop());
    const w = await startScaleWorker({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: tokens, redisUrl: redis.url, lockMs: 2000, logger: silent });
    cleanups.push(() => w.stop());
    const [fast, slow, wrong] = net.minerHotkeys.map((k) => k.ss58Address);
    let scores: Record<string, number> = {};
    await waitFor('a few streamed tasks applied', async () => {
      scores = await c.scores();
      return seen.length >= 12 && (scores[slow!] ?? 0) > 0 && (scores[fast!] ?? 0) > 0;
    });
    console.log(`split streaming scores: fast ${scores[fast!]?.toFixed(3)}, slow ${scores[slow!]?.toFixed(3)}, wrong ${(scores[wrong!] ?? 0).toFixed(3)} after ${seen.length} answers`);
    expect(scores[fast!]).toBeGreaterThan(scores[slow!]!);
    expect(scores[wrong!] ?? 0).toBe(0);
    const fastAnswer = seen.find((a) => a.hotkey === fast && a.ok)!;
    expect(fastAnswer.stream!.chunks).toHaveLength(6);
    expect(fastAnswer.stream!.timeToFirstChunkMs).not.toBeNull();
    expect(fastAnswer.response?.completion).toBe(expectedWords(fastAnswer.query));
  }, 90_000);
});
