/**
 * SubtensorChain against the real spec 185 runtime in chopsticks: chopsticks start-up, metagraph sync
 * of 192 neurons (time and RPC round trips) vs a per-uid storage read baseline, set_weights submit →
 * pool → inclusion, and adapter memory over a long block subscription
 * (SUBTENSOR_BENCH_BLOCKS, default 1 000: chopsticks builds 1–6 empty blocks/s on this shared machine,
 * slowing as the chain grows, so 10 000 blocks take about an hour; the default run reports the heap slope
 * per 1 000 blocks instead).
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SubtensorChain } from '../../framework/chain/subtensor/index.ts';
import { keypairFromUri } from '../../framework/wallet/keypair.ts';
import { startChopsticks, type Chopsticks, type RuntimeSpec } from '../../test/support/chopsticks.ts';
import { inBlock, relaxDevLimits } from '../../test/chain/subtensor/scenario.ts';

const NEURONS = 192;
const PER_BLOCK = 16;

async function logTail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function setup(chain: SubtensorChain, cs: Chopsticks): Promise<number> {
  const alice = keypairFromUri('//Alice');
  await relaxDevLimits(chain, cs);
  const [netuid] = await inBlock(cs, [() => chain.registerNetwork(alice, alice.ss58Address)]);
  await inBlock(cs, [
    () =>
      chain.sudoBatch([
        ['admin_utils', 'sudo_set_max_allowed_uids', { netuid, max_allowed_uids: 256 }],
        ['admin_utils', 'sudo_set_max_registrations_per_block', { netuid, max_registrations_per_block: 256 }],
        ['admin_utils', 'sudo_set_target_registrations_per_interval', { netuid, target_registrations_per_interval: 256 }],
        ['admin_utils', 'sudo_set_weights_set_rate_limit', { netuid, weights_set_rate_limit: 0 }],
        ['admin_utils', 'sudo_set_min_allowed_weights', { netuid, min_allowed_weights: 1 }],
        ['admin_utils', 'sudo_set_tempo', { netuid, tempo: 1000 }],
      ]),
  ]);
  const colds = ['//Bob', '//Charlie', '//Dave', '//Eve'].map((u) => keypairFromUri(u));
  for (let b = 0; b < NEURONS / PER_BLOCK; b++) {
    await inBlock(
      cs,
      Array.from({ length: PER_BLOCK }, (_, i) => {
        const k = b * PER_BLOCK + i;
        return () => chain.burnedRegister(colds[k % colds.length]!, netuid, keypairFromUri(`//Bench//hot${k}`).ss58Address);
      }),
    );
  }
  return netuid;
}

/** The baseline a naive client does: one storage read per field per uid. */
async function perUidSync(chain: SubtensorChain, netuid: number, n: number): Promise<void> {
  const q = chain.api.query.subtensorModule;
  for (let uid = 0; uid < n; uid++) {
    const hotkey = (await q.keys(netuid, uid)).toString();
    await Promise.all([q.owner(hotkey), q.totalHotkeyStake(hotkey), q.axons(netuid, hotkey), q.blockAtRegistration(netuid, uid)]);
  }
  await Promise.all([q.incentive(netuid), q.dividends(netuid), q.emission(netuid), q.consensus(netuid), q.validatorTrust(netuid), q.active(netuid), q.lastUpdate(netuid), q.validatorPermit(netuid)]);
}

export async function run(): Promise<void> {
  const blocks = Number(process.env.SUBTENSOR_BENCH_BLOCKS ?? 1_000);
  // SUBTENSOR_BENCH_SPEC=218: the other real runtime (only the memory part is meant for it)
  const spec: RuntimeSpec = process.env.SUBTENSOR_BENCH_SPEC === '218' ? 218 : 185;
  // chopsticks' own log, kept for the whole run: when it stops building blocks, it says why there
  const logFile = process.env.SUBTENSOR_BENCH_CHOPSTICKS_LOG ?? join(tmpdir(), `bench-chopsticks-${spec}-${process.pid}.log`);
  // chopsticks reads storage through one layer per block change, recursively: from genesis, the default V8
  // stack overflows at block #5 612 on spec 185 (RangeError in storage-layer.js, "build block failed"), so a
  // long run gets a bigger one (SUBTENSOR_BENCH_STACK_KB; default 4 000 KiB past 4 000 blocks, half of ulimit -s 8 MiB)
  const stackSizeKb = Number(process.env.SUBTENSOR_BENCH_STACK_KB ?? (blocks > 4_000 ? 4_000 : 0)) || undefined;
  const cs = await startChopsticks(spec, { logFile, stackSizeKb });
  const out: string[] = [
    `chopsticks spec ${spec} start-up: ${cs.startupMs} ms (spawn → "RPC listening"); its log: ${logFile}${stackSizeKb ? `; node --stack-size=${stackSizeKb}` : ''}`,
  ];
  const chain = await SubtensorChain.connect(cs.url, { sudo: keypairFromUri('//Alice'), heartbeatMs: 0 });
  try {
    // SUBTENSOR_BENCH_PARTS=memory: only the long subscription (no subnet, no 192 registrations)
    if (process.env.SUBTENSOR_BENCH_PARTS !== 'memory') await syncAndWeights(chain, cs, out);
    await subscriptionMemory(chain, cs, blocks, out);
    if (out.some((l) => l.includes('STOPPED'))) out.push(`  chopsticks log, last lines:\n${await logTail(logFile, 40)}`);
  } finally {
    await chain.close();
    await cs.stop();
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

export const description = 'SubtensorChain on chopsticks spec 185 (SUBTENSOR_BENCH_SPEC=218 for the other): metagraph sync (192 neurons), set_weights latency, subscription memory';

async function syncAndWeights(chain: SubtensorChain, cs: Chopsticks, out: string[]): Promise<void> {
  const t0 = Date.now();
  const netuid = await setup(chain, cs);
  out.push(`setup: subnet + ${NEURONS} burned registrations (${PER_BLOCK}/block): ${Date.now() - t0} ms`);

  const times: number[] = [];
  let trips = 0;
  for (let i = 0; i < 5; i++) {
    const r0 = chain.rpcCount();
    const s = performance.now();
    const mg = await chain.getMetagraph(netuid);
    times.push(performance.now() - s);
    trips = chain.rpcCount() - r0;
    if (mg.n !== NEURONS) throw new Error(`metagraph has ${mg.n} neurons, expected ${NEURONS}`);
  }
  const r0 = chain.rpcCount();
  const s = performance.now();
  await perUidSync(chain, netuid, NEURONS);
  const naive = performance.now() - s;
  const naiveTrips = chain.rpcCount() - r0;
  out.push(`metagraph sync, ${NEURONS} neurons: ${median(times).toFixed(0)} ms median of 5, ${trips} RPC round trips`);
  out.push(`  baseline per-uid storage reads: ${naive.toFixed(0)} ms, ${naiveTrips} round trips (ratio ${(naive / median(times)).toFixed(1)}×)`);

  // set_weights: submit → pool (Ready) → built block → inclusion. Without an epoch no neuron holds a
  // permit (NeuronNoValidatorPermit for other uids), so the weight is on itself, which the runtime allows
  const hot0 = keypairFromUri('//Bench//hot0');
  const self = await chain.getUid(netuid, hot0.ss58Address);
  if (self === null) throw new Error('bench hotkey 0 is not registered');
  const w: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const p = chain.setWeights(hot0, netuid, [self], [65_535], 0n);
    p.catch(() => undefined); // awaited below; a refusal must not crash the run while a block is built
    await cs.waitPending(1);
    const pooled = performance.now() - t;
    await cs.newBlock();
    await p;
    w.push(performance.now() - t);
    out.push(`set_weights #${i + 1}: submit → pool ${pooled.toFixed(0)} ms, → inclusion ${(performance.now() - t).toFixed(0)} ms (manual block included)`);
  }

}

async function subscriptionMemory(chain: SubtensorChain, cs: Chopsticks, blocks: number, out: string[]): Promise<void> {
  // memory over a long subscription
  let seen = 0;
  const unsub = chain.subscribeBlocks(() => (seen += 1));
  await cs.newBlock();
  // a gc() without --expose-gc on the command line (npm run bench runs tsx), so heap numbers are live data
  setFlagsFromString('--expose-gc');
  const gc = ((globalThis as { gc?: () => void }).gc ?? (runInNewContext('gc') as (() => void) | undefined));
  gc?.();
  const before = process.memoryUsage();
  const t1 = Date.now();
  const samples: string[] = [];
  const heaps: number[] = [];
  const sampledAt: number[] = [];
  // each batch is delivered (finality jumps 250 blocks: the adapter fills the gap) before the next is built,
  // so the heap is sampled over blocks the subscription has really handled
  let lagged = 0;
  const settle = Date.now() + 10_000;
  while (seen === 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 50));
  const seen0 = seen;
  let head = (await chain.getBlock()).number;
  let done = 0;
  while (done < blocks) {
    const k = Math.min(250, blocks - done);
    await cs.newBlock(k);
    // chopsticks answers dev_newBlock with the old head when the runtime fails to build: say so and stop
    const now = (await chain.getBlock()).number;
    if (now === head) {
      out.push(`  STOPPED: chopsticks built no block past #${now} (after ${done} subscribed blocks); dev_newBlock returns the old head`);
      break;
    }
    done += now - head; // what was really built (a failing chopsticks may build fewer than asked)
    head = now;
    const end = Date.now() + 120_000;
    while (seen < seen0 + done && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    if (seen < seen0 + done) lagged += 1;
    gc?.();
    heaps.push(process.memoryUsage().heapUsed);
    sampledAt.push(done);
    samples.push(`${done}:${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)}`);
  }
  if (lagged > 0) out.push(`  WARNING: ${lagged} batches not fully delivered within 120 s`);
  gc?.();
  const after = process.memoryUsage();
  unsub();
  out.push(
    `subscription over ${done} built blocks of ${blocks} asked (${seen - seen0} delivered, ${((Date.now() - t1) / 1000).toFixed(0)} s): heap ${(before.heapUsed / 2 ** 20).toFixed(1)} → ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB${gc ? '' : ' (no --expose-gc: heap includes garbage)'}`,
  );
  out.push(`  heap MiB after n blocks: ${samples.join(' ')}`);
  if (heaps.length >= 2) {
    const slope = ((heaps[heaps.length - 1]! - heaps[0]!) / 2 ** 20 / (sampledAt[sampledAt.length - 1]! - sampledAt[0]!)) * 1000;
    out.push(`  heap slope after the first 250 blocks: ${slope.toFixed(2)} MiB per 1 000 blocks (→ ${(slope * 10).toFixed(1)} MiB over 10 000)`);
  }
}
