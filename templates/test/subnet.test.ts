import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { LocalChain } from 'subnetkit/chain';
import { startMiner } from 'subnetkit/miner';
import { startValidator } from 'subnetkit/validator';
import { keypairFromUri } from 'subnetkit/wallet';
import { createPuzzleCommodity, puzzleMiner, type MinerBehavior } from '../src/commodity.ts';
import { parseMinerFlags } from '../src/miner.ts';
import { parseValidatorFlags } from '../src/validator.ts';

const silent = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 40_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('puzzle subnet on an in-process LocalChain', () => {
  it('ranks honest > slow > wrong = offline and puts that on chain', async () => {
    const chain = await LocalChain.create({ blockTimeMs: 50, genesisSeed: 'template-test' });
    cleanups.push(() => chain.close());
    const owner = keypairFromUri('//Alice');
    const validator = keypairFromUri('//Alice//validator');
    const netuid = await chain.registerNetwork(owner, validator.ss58Address);
    await chain.startCall(owner, netuid);
    await chain.setHyperparameters(owner, netuid, { commitRevealWeightsEnabled: false, weightsSetRateLimit: 5, servingRateLimit: 0, immunityPeriod: 0 });
    if ((await chain.getUid(netuid, validator.ss58Address)) === null) await chain.burnedRegister(owner, netuid, validator.ss58Address);

    // small difficulties keep the test quick on two cores; the slow miner adds 400 ms
    const commodity = createPuzzleCommodity({ minDifficulty: 6, maxDifficulty: 10, timeoutMs: 1500 });
    const behaviors: MinerBehavior[] = ['honest', 'wrong', 'slow', 'offline'];
    const uids: number[] = [];
    for (const [i, b] of behaviors.entries()) {
      const m = await startMiner({
        chain, netuid, hotkey: keypairFromUri(`//Bob//puzzle-${i}`), coldkey: keypairFromUri('//Bob'), register: true,
        commodity, miner: puzzleMiner(b, { slowMs: 400 }), axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
      });
      cleanups.push(() => m.stop());
      uids.push(m.uid);
    }
    const dir = await mkdtemp(join(tmpdir(), 'puzzle-validator-'));
    const v = await startValidator({ chain, netuid, hotkey: validator, commodity, statePath: dir, options: { roundIntervalMs: 100, concurrency: 2, alpha: 0.3, logger: silent } });
    cleanups.push(() => v.stop());

    const [honest, wrong, slow, offline] = uids;
    await until('separated scores', () => {
      const s = v.state.scoresByUid();
      return v.state.step >= 8 && s[honest] > 0.5 && s[slow] > 0;
    });
    const row = await until('weights on chain', async () => {
      await v.state.nextWeightsAttempt();
      const r = await chain.getWeights(netuid, v.state.uid!);
      return r.some(([u]) => u === honest) ? r : null;
    });
    const w = (uid: number) => row.find(([u]) => u === uid)?.[1] ?? 0;
    expect(w(honest)).toBe(65535);
    expect(w(honest)).toBeGreaterThan(w(slow));
    expect(w(wrong)).toBe(0);
    expect(w(offline)).toBe(0);
    const s = v.state.scoresByUid();
    expect(s[honest]).toBeGreaterThan(s[slow]);
    expect(s[slow]).toBeGreaterThan(s[wrong]);
    expect(s[wrong]).toBe(0);
    expect(s[offline]).toBe(0);
  });
});

describe('entry point flags', () => {
  it('flags win over env, env over defaults', () => {
    const env = { SUBNET_CHAIN: 'http://127.0.0.1:9944', SUBNET_NETUID: '3', SUBNET_PORT: '9000', MINER_BEHAVIOR: 'slow' };
    expect(parseMinerFlags([], env)).toMatchObject({ chain: 'http://127.0.0.1:9944', netuid: 3, port: 9000, behavior: 'slow', register: false });
    expect(parseMinerFlags(['--port', '0', '--behavior', 'offline', '--netuid', '7', '--register'], env)).toMatchObject({ port: 0, behavior: 'offline', netuid: 7, register: true });
    expect(parseMinerFlags([], {})).toMatchObject({ chain: 'http://127.0.0.1:9944', netuid: 1, port: 8091, behavior: 'honest' });
    expect(parseValidatorFlags(['--alpha', '0.5', '--hotkey', 'v1'], { SUBNET_NETUID: '2' })).toMatchObject({ alpha: 0.5, hotkey: 'v1', netuid: 2 });
  });

  it('rejects bad values with a zod error naming the flag', () => {
    expect(() => parseMinerFlags(['--behavior', 'evil'], {})).toThrow(/behavior/);
    expect(() => parseMinerFlags(['--port', '70000'], {})).toThrow(/port/);
    expect(() => parseValidatorFlags(['--alpha', '2'], {})).toThrow(/alpha/);
    expect(() => parseValidatorFlags(['--netuid', 'x'], {})).toThrow(/netuid/);
  });
});
