import { afterEach, describe, expect, it } from 'vitest';
import { startMiner } from '../../framework/miner/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { makeNet, silent, waitFor } from './support.ts';
import { expectedWords, wordStreamCommodity, wordStreamer } from '../support/token-stream.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const { commodity: tokens, seen } = wordStreamCommodity('TokenStream');

describe('streaming commodity', () => {
  it('gives the scorer per-chunk telemetry and rewards faster correct streams', async () => {
    const net = await makeNet({ miners: 3, tag: 'stream', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    const behaviours = [wordStreamer(10), wordStreamer(80), wordStreamer(10, true)];
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
    expect(fastAnswer.response?.completion).toBe(expectedWords(fastAnswer.query));
  });
});
