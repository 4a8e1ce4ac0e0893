/**
 * Validator bench: rounds/s with concurrent rounds vs one round at a time (the template's shape, minus
 * its blocking sleep), against 8 real axons on 127.0.0.1 whose handler takes 100 ms; plus the seeded
 * task RNG vs Math.random and the delayed-task file store's cost per enqueue.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { renderTable } from '../../framework/util/table.ts';
import { defineCommodity, FilePendingStore, SeededRng, type PendingTask } from '../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';

const silent = pino({ level: 'silent' });
const WORK_MS = 100;
const MINERS = 8;

const echo = defineCommodity({
  name: 'BenchEcho',
  query: z.object({ n: z.number().int() }),
  response: z.object({ echo: z.number().int().nullish() }),
  timeoutMs: 2000,
  sampleSize: MINERS,
  generate: (ctx) => ({ query: { n: ctx.round }, data: undefined }),
  score: ({ answers }) => Object.fromEntries(answers.map((a) => [a.hotkey, a.response?.echo === a.query.n ? 1 : 0])),
  miner: { handle: async (q) => (await new Promise((r) => setTimeout(r, WORK_MS)), { echo: q.n }) },
});

/** A started subnet owned by //Alice with a registered validator hotkey, rate limits and commit-reveal off. */
export async function benchSubnet(chain: LocalChain): Promise<{ netuid: number; vk: Keypair }> {
  const owner = keypairFromUri('//Alice');
  const vk = keypairFromUri('//Alice//bench-validator');
  const netuid = await chain.registerNetwork(owner, vk.ss58Address);
  await chain.startCall(owner, netuid);
  await chain.setHyperparameters(owner, netuid, { servingRateLimit: 0, commitRevealWeightsEnabled: false, immunityPeriod: 0 });
  if ((await chain.getUid(netuid, vk.ss58Address)) === null) await chain.burnedRegister(owner, netuid, vk.ss58Address);
  return { netuid, vk };
}

async function roundsPerSecond(concurrency: number, seconds: number): Promise<number> {
  const chain = await LocalChain.create({ blockTimeMs: 100, genesisSeed: `bench-${concurrency}` });
  const { netuid, vk } = await benchSubnet(chain);
  const miners: MinerHandle[] = [];
  for (let i = 0; i < MINERS; i++) {
    miners.push(await startMiner({
      chain, netuid, hotkey: keypairFromUri(`//Bob//bench-${i}`), coldkey: keypairFromUri('//Bob'), register: true, commodity: echo,
      axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
    }));
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-validator-'));
  const v = await startValidator({ chain, netuid, hotkey: vk, commodity: echo, statePath: dir, options: { concurrency, roundIntervalMs: 10, logger: silent, disableWeights: true } });
  const start = v.state.step;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rounds = v.state.step - start;
  await v.stop();
  for (const m of miners) await m.stop();
  await chain.close();
  await rm(dir, { recursive: true, force: true });
  return rounds / seconds;
}

function opsPerMs(fn: () => void, ms = 300): number {
  let ops = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
  }
  return ops / (performance.now() - t0);
}

export async function run(): Promise<void> {
  const rows: Array<{ what: string; value: string; ratio: string }> = [];
  const base = await roundsPerSecond(1, 4);
  rows.push({ what: `rounds/s, 1 in flight (${MINERS} miners × ${WORK_MS} ms)`, value: base.toFixed(2), ratio: '1.00×' });
  for (const c of [4, 8]) {
    const r = await roundsPerSecond(c, 4);
    rows.push({ what: `rounds/s, ${c} in flight`, value: r.toFixed(2), ratio: `${(r / base).toFixed(2)}×` });
  }
  const rng = new SeededRng('bench');
  const ours = opsPerMs(() => rng.nextU32());
  const mathRandom = opsPerMs(() => Math.random());
  rows.push({ what: 'Math.random() per ms (baseline)', value: mathRandom.toFixed(0), ratio: '1.00×' });
  rows.push({ what: 'SeededRng.nextU32() per ms', value: ours.toFixed(0), ratio: `${(ours / mathRandom).toFixed(3)}×` });

  const dir = await mkdtemp(join(tmpdir(), 'bench-pending-'));
  const store = await FilePendingStore.open(join(dir, 'pending.json'));
  const task = (i: number): PendingTask => ({
    id: `t${i}`, commodity: 'c', round: i, createdBlock: i, createdAt: i, resolveAt: { block: i + 10 }, attempts: 0, data: { i },
    answers: Array.from({ length: 16 }, (_, u) => ({ uid: u, hotkey: `hk${u}`, ok: true, statusCode: 200, statusMessage: 'OK', latencyMs: 10, query: { n: i }, response: { echo: i } })),
  });
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await store.add(task(i));
  const perAdd = (performance.now() - t0) / 200;
  rows.push({ what: 'FilePendingStore.add, 16 answers (ms, fsync incl.)', value: perAdd.toFixed(2), ratio: '' });
  await store.close();
  await rm(dir, { recursive: true, force: true });

  process.stdout.write(`${renderTable(rows, [
    { header: 'measure', value: (r) => r.what, align: 'left' },
    { header: 'value', value: (r) => r.value },
    { header: 'vs baseline', value: (r) => r.ratio },
  ])}\n`);
}
