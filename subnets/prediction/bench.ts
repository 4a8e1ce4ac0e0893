/**
 * `npm run bench -- prediction`: scoring throughput vs a plain typed-array loop computing the same
 * score, and resolving 10,000 pending tasks after a restart.
 *  - binary: the commodity's skillOf (Brier vs market) per forecast vs an inline Float64Array loop;
 *  - CRPS: skillOf for 1,000 paths × 288 points (the forecast as the wire delivers it, number[][])
 *    vs the same sorted-ensemble formula over a pre-transposed Float64Array;
 *  - restart: 10,000 delayed tasks in the SqlitePendingStore, reopened (the restart), then every one
 *    scored by the commodity's reveal scorer and completed one at a time; the framework's default
 *    JSON-file store (rewritten per completion) as the baseline, on 1,000 and 2,000 tasks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilePendingStore, MinerStateStore, type PendingStore, type PendingTask } from '../../framework/commodity/index.ts';
import { SqlitePendingStore } from '../../framework/commodity/pending-sqlite.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/index.ts';
import { createPredictionCommodity, skillOf, type PredictionMinerState } from './src/commodity.ts';
import type { BinaryEvent, EventSource, PathsEvent } from './src/events.ts';
import { FastRng } from './src/random.ts';
import { commitmentOf } from './src/seal.ts';

export const description = 'prediction: scoring throughput (binary, CRPS 1,000 paths × 288) vs typed-array loops; 10,000 pending tasks resolved after a restart';

function timeIt(fn: () => void, minMs = 1500): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<void> {
  await cryptoReady();
  const rng = new FastRng('bench');
  const out = (s: string) => process.stdout.write(`${s}\n`);

  // --- binary ---
  const N = 10_000;
  const ps = Float64Array.from({ length: N }, () => rng.next());
  const ms = Float64Array.from({ length: N }, () => 0.02 + 0.96 * rng.next());
  const os = Uint8Array.from({ length: N }, () => (rng.bool(0.5) ? 1 : 0));
  const events: BinaryEvent[] = Array.from({ length: N }, (_, i) => ({ id: `e${i}`, kind: 'binary', question: '', openAt: 0, cutoffAt: 1, resolveAt: 2, market: ms[i]! }));
  const forecasts = Array.from({ length: N }, (_, i) => ({ p: ps[i]! }));
  let sink = 0;
  const ours = timeIt(() => {
    for (let i = 0; i < N; i++) sink += skillOf(events[i]!, forecasts[i]!, { status: 'resolved', outcome: os[i] as 0 | 1 }, 'brier')!;
  }) * N;
  const plain = timeIt(() => {
    for (let i = 0; i < N; i++) {
      const o = os[i]!;
      sink += (ms[i]! - o) ** 2 - (ps[i]! - o) ** 2;
    }
  }) * N;
  out(`binary Brier skill       ${(ours / 1e6).toFixed(2)} M forecasts/s   typed-array loop ${(plain / 1e6).toFixed(2)} M/s   ratio ${(ours / plain).toFixed(3)}`);

  // --- CRPS, 1,000 paths × 288 points ---
  const M = 1000;
  const T = 288;
  const at = Array.from({ length: T }, (_, j) => 1000 + j);
  const pe: PathsEvent = { id: 'p', kind: 'paths', question: '', openAt: 0, cutoffAt: 1000, resolveAt: 2000, refPrice: 100, at, numPaths: M,
    baseline: { mean: at.map(() => 0), sd: at.map((_, j) => 10 * Math.sqrt(j + 1)) } };
  const paths = Array.from({ length: M }, () => {
    let lp = Math.log(100);
    return at.map(() => Math.exp((lp += 0.001 * rng.normal())));
  });
  const realized = at.map((_, j) => paths[0]![j]! * Math.exp(0.002 * rng.normal()));
  // the baseline: bps log-returns already transposed into one Float64Array per point
  const cols = at.map((_, j) => Float64Array.from(paths, (p) => 1e4 * Math.log(p[j]! / 100)));
  const ys = realized.map((r) => 1e4 * Math.log(r / 100));
  const scratch = new Float64Array(M);
  const oursC = timeIt(() => {
    sink += skillOf(pe, { paths }, { status: 'resolved', prices: realized }, 'brier')!;
  }, 3000);
  const plainC = timeIt(() => {
    let total = 0;
    for (let j = 0; j < T; j++) {
      scratch.set(cols[j]!);
      scratch.sort();
      let abs = 0;
      let pair = 0;
      for (let i = 0; i < M; i++) {
        abs += Math.abs(scratch[i]! - ys[j]!);
        pair += (2 * i + 1 - M) * scratch[i]!;
      }
      total += abs / M - pair / (M * M);
    }
    sink += total;
  }, 3000);
  out(`CRPS 1,000 × 288 paths   ${oursC.toFixed(1)} forecasts/s          typed-array loop ${plainC.toFixed(1)} /s     ratio ${(oursC / plainC).toFixed(3)}   (${((M * T) * oursC / 1e6).toFixed(1)} M path-points/s)`);

  // --- pending tasks resolved after a restart: SQLite store (10,000) vs the JSON-file store (baseline) ---
  const signer = keypairFromUri('//bench/validator');
  const miners = Array.from({ length: 4 }, (_, i) => keypairFromUri(`//bench/miner/${i}`).ss58Address);
  const source: EventSource = { events: async () => [], resolution: async (id) => ({ status: 'resolved', outcome: (id.length % 2) as 0 | 1 }) };
  const commodity = createPredictionCommodity({ source, signer });
  const makeTasks = (K: number): PendingTask[] =>
    Array.from({ length: K }, (_, k) => {
      const ev: BinaryEvent = { id: `ev-${k}`, kind: 'binary', question: '', openAt: 0, cutoffAt: 1, resolveAt: 2, market: 0.5 };
      const salt = 'ab'.repeat(32);
      const expected = Object.fromEntries(miners.map((hk) => [hk, { [ev.id]: commitmentOf(hk, ev.id, salt, { p: 0.6 }) }]));
      return { id: `t${k}`, commodity: commodity.name, round: k, createdBlock: 0, createdAt: k, resolveAt: { time: 0 }, attempts: 0,
        data: { phase: 'reveal', events: [ev], expected },
        answers: miners.map((hk, uid) => ({ uid, hotkey: hk, ok: true, statusCode: 200, statusMessage: null, latencyMs: 1, query: { phase: 'reveal', events: [], reveal: [] },
          response: { reveals: [{ eventId: ev.id, salt, forecast: { p: 0.6 } }] } })) };
    });
  /** Fill a store, close it, reopen it (the restart), then score and complete every task one by one as the runtime does. */
  async function drain(open: () => Promise<PendingStore>, K: number, bulk: (s: PendingStore, t: PendingTask[]) => Promise<void>, score = true): Promise<{ reopenMs: number; drainS: number; scored: number }> {
    const first = await open();
    await bulk(first, makeTasks(K));
    await first.close();
    const t0 = performance.now();
    const store = await open();
    const reopened = performance.now();
    const state = new MinerStateStore<PredictionMinerState>(commodity.minerState);
    const metagraph = { hotkeys: miners } as never;
    let scored = 0;
    for (;;) {
      const due = await store.due(0, Date.now(), 100); // the runtime's batch size
      if (due.length === 0) break;
      for (const p of due) {
        if (!score) {
          scored++;
          await store.complete(p.id);
          continue;
        }
        const data = commodity.taskData.parse(p.data);
        const answers = p.answers.map((a) => ({ ...a, query: commodity.query.parse(a.query), response: a.response === null ? null : commodity.response.parse(a.response) }));
        const r = await commodity.score({ task: { id: p.id, round: p.round, createdBlock: 0, createdAt: p.createdAt, data, attempts: 0 }, answers, block: { number: 1, hash: '0x', timestamp: 0 } as never, now: Date.now(), metagraph, state });
        if (!('at' in r)) scored++;
        await store.complete(p.id); // one at a time, awaited: what the runtime does per scored task
      }
    }
    await store.close();
    return { reopenMs: reopened - t0, drainS: (performance.now() - reopened) / 1000, scored };
  }
  const dir = await mkdtemp(join(tmpdir(), 'prediction-bench-'));
  try {
    const K = 10_000;
    const addAll = async (s: PendingStore, ts: PendingTask[]) => {
      for (const t of ts) await s.add(t);
    };
    const addCoalesced = async (s: PendingStore, ts: PendingTask[]) => {
      for (const t of ts) void s.add(t); // the file store coalesces these into a few writes
      await s.add(ts[ts.length - 1]!);
    };
    const rate = (r: { scored: number; drainS: number }) => r.scored / r.drainS;
    // the store alone (due + complete), then with the commodity's reveal scorer in the loop
    const sqStore = await drain(() => SqlitePendingStore.open(join(dir, 'store.sqlite')), K, addAll, false);
    out(`${K.toLocaleString('en')} pending (SQLite), store only   reopened in ${sqStore.reopenMs.toFixed(0)} ms, drained in ${sqStore.drainS.toFixed(2)} s (${rate(sqStore).toFixed(0)} tasks/s)`);
    for (const KF of [1000, 2000]) {
      const f = await drain(() => FilePendingStore.open(join(dir, `store-${KF}.json`)), KF, addCoalesced, false);
      out(`${KF.toLocaleString('en')} pending (JSON file), store only reopened in ${f.reopenMs.toFixed(0)} ms, drained in ${f.drainS.toFixed(2)} s (${rate(f).toFixed(0)} tasks/s)   SQLite/file ratio ${(rate(sqStore) / rate(f)).toFixed(1)}`);
    }
    const sq = await drain(() => SqlitePendingStore.open(join(dir, 'pending.sqlite')), K, addAll);
    out(`${K.toLocaleString('en')} pending (SQLite), scored       reopened in ${sq.reopenMs.toFixed(0)} ms, all ${sq.scored} scored + completed in ${sq.drainS.toFixed(2)} s (${rate(sq).toFixed(0)} tasks/s)`);
    const f = await drain(() => FilePendingStore.open(join(dir, 'pending-1000.json')), 1000, addCoalesced);
    out(`1,000 pending (JSON file), scored    reopened in ${f.reopenMs.toFixed(0)} ms, all ${f.scored} scored + completed in ${f.drainS.toFixed(2)} s (${rate(f).toFixed(0)} tasks/s)   SQLite/file ratio ${(rate(sq) / rate(f)).toFixed(1)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (sink === 42) out('');
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
