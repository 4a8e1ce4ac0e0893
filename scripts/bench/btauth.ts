/**
 * Bench suite 'btauth': btauth/1 against its floors, with the v10 Synapse path beside it, in one run.
 *  (a) raw sr25519 verifications per CPU second (@polkadot/wasm-crypto, what keypair.verify calls) of a
 *      btauth payload;
 *  (b) the axon's btauth/1 route: signed requests per CPU second of the server process (load generator in a
 *      child process, pre-signed requests), target ≥ 70 % of (a);
 *  (c) the same axon, same port, answering SDK v10 requests (the Synapse path) — btauth/1 must not cost more;
 *  (d) Dendrite fan-out to 256 loopback peers (child process) sleeping 200 ms: overhead beyond the slowest
 *      peer, btauth/1 (target ≤ 40 ms) vs the v10 wire vs raw undici.
 * (a), (b), (c) alternate over WIRE_BENCH_TRIALS trials and (d)'s rows alternate per round; medians reported.
 */
import { cpus, loadavg } from 'node:os';
import { sr25519Verify as wasmVerify } from '@polkadot/wasm-crypto';
import { pino } from 'pino';
import { Agent } from 'undici';
import { createAxon } from '../../framework/axon/index.ts';
import { bodySha256, buildPayload } from '../../framework/btauth/index.ts';
import { Dendrite, type AxonTarget } from '../../framework/dendrite/index.ts';
import { cryptoReady, keypairFromUri, sign } from '../../framework/wallet/keypair.ts';
import { spawnPeers, stopPeers } from './dendrite.ts';
import { BenchSynapse } from './dendrite-synapse.ts';
import { BenchEcho, load, median, medianRate, mergeStatuses, verifyRate, type Rate } from './wire.ts';

const COUNT = Number(process.env.WIRE_BENCH_REQUESTS ?? 8000);
const WARMUP = Number(process.env.WIRE_BENCH_WARMUP ?? 3000);
const TRIALS = Number(process.env.WIRE_BENCH_TRIALS ?? 3);
const N = Number(process.env.BENCH_DENDRITE_TARGETS ?? 256);
const SLEEP_MS = Number(process.env.BENCH_DENDRITE_SLEEP_MS ?? 200);
const ROUNDS = Number(process.env.BENCH_DENDRITE_ROUNDS ?? 5);
const FANOUT_WARMUP = Number(process.env.BENCH_DENDRITE_WARMUP ?? 5);
const REQUEST = { task: 'solve the puzzle', seed: 12345, params: [0.5, 1, 2.25] };

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;
const row = (cells: string[]) => `${cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(14))).join(' ')}\n`;

async function serverSide(): Promise<string> {
  const axonKey = keypairFromUri('//Alice');
  const caller = keypairFromUri('//Bob');
  const body = JSON.stringify({ prompt: 'prompt number 1234 with a few words of text', seed: 1234 });
  const payload = buildPayload({ scheme: 'sr25519', method: 'POST', target: '/echo', bodySha256: bodySha256(body), nonce: 1763780000000000000n, hotkey: caller.ss58Address, receiver: axonKey.ss58Address });
  const msg = new TextEncoder().encode(payload);
  const sig = sign(caller, msg);
  const callers = { lookup: (hk: string) => ({ uid: hk.length % 7, stake: 1_000n, validatorPermit: true }) };
  // pre-signed requests age while the generator sends them: a wide maxAge keeps them fresh (it costs nothing per request)
  const axon = createAxon({
    keypair: axonKey, callers, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), rateLimit: false,
    admission: { maxConcurrent: 64, maxQueue: 4096 }, btauth: { maxAgeMs: 600_000 }, maxTimeoutMs: 600_000, nonce: { reorderWindowMs: 60_000 },
  });
  axon.attach(BenchEcho, (req) => ({ answer: `${req.prompt.length}:${req.seed}` }), { path: '/echo' });
  await axon.start();
  await load(axon.port, '/echo', axonKey.ss58Address, WARMUP, 'btauth');
  // v10 requests get the same 600 s window (a stale one is a cheap 401 and would flatter the v10 rate)
  await load(axon.port, '/BenchEcho', axonKey.ss58Address, WARMUP, 'synapse', 600);
  const raw: Rate[] = [];
  const bt: Array<Rate & { statuses: Record<string, number> }> = [];
  const v10: Array<Rate & { statuses: Record<string, number> }> = [];
  for (let t = 0; t < TRIALS; t++) {
    raw.push(verifyRate(() => wasmVerify(sig, msg, caller.publicKey), 1000));
    bt.push(await load(axon.port, '/echo', axonKey.ss58Address, COUNT, 'btauth'));
    v10.push(await load(axon.port, '/BenchEcho', axonKey.ss58Address, COUNT, 'synapse', 600));
  }
  await axon.stop();
  const r = medianRate(raw);
  const b = medianRate(bt);
  const v = medianRate(v10);
  let out = `server: ${COUNT} requests per run after ${WARMUP} warm-up, ${TRIALS} alternating trials (medians)\n`;
  out += row(['', 'per CPU s', 'per wall s', 'vs raw verify']);
  out += row(['(a) raw sr25519 verify (wasm-crypto)', fmt(r.cpu), fmt(r.wall), '100 %']);
  out += row(['(b) axon btauth/1 route', fmt(b.cpu), fmt(b.wall), pct(b.cpu, r.cpu)]);
  out += row(['(c) axon v10 Synapse path (same port)', fmt(v.cpu), fmt(v.wall), pct(v.cpu, r.cpu)]);
  out += `statuses: btauth ${JSON.stringify(mergeStatuses(bt.map((x) => x.statuses)))}, synapse ${JSON.stringify(mergeStatuses(v10.map((x) => x.statuses)))}\n`;
  out += `CPU per request: btauth/1 ${(1e6 / b.cpu).toFixed(0)} µs, v10 ${(1e6 / v.cpu).toFixed(0)} µs (btauth/v10 = ${(v.cpu / b.cpu).toFixed(2)})\n`;
  out += `target (b) ≥ 70 % of (a): ${pct(b.cpu, r.cpu)} — ${b.cpu >= 0.7 * r.cpu ? 'met' : 'NOT met'}; btauth/1 ≤ v10 CPU per request: ${b.cpu >= v.cpu ? 'met' : 'NOT met'}\n`;
  return out;
}

async function fanOut(): Promise<string> {
  const alice = keypairFromUri('//Alice');
  const bob = keypairFromUri('//Bob');
  const peers = await spawnPeers('http');
  try {
    const targets: AxonTarget[] = peers.ports.map((port) => ({ ip: '127.0.0.1', port, hotkey: bob.ss58Address }));
    const raw = new Agent({ connections: 8, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
    const rawBody = JSON.stringify({ name: 'BenchSynapse', ...REQUEST, answer: null });
    const bt = new Dendrite({ keypair: alice });
    const v10 = new Dendrite({ keypair: alice, protocol: 'synapse' });
    // an SDK v11 validator may hold an ed25519 hotkey: signing costs ~41 µs there vs ~67 µs for sr25519 (schnorrkel-wasm)
    const ed = new Dendrite({ keypair: keypairFromUri('//Alice', 'ed25519') });
    const rows: Record<string, { walls: number[]; cpu: number; ok: number }> = {
      'raw undici (baseline)': { walls: [], cpu: 0, ok: 0 },
      'Dendrite.forward btauth/1': { walls: [], cpu: 0, ok: 0 },
      'Dendrite.forward v10 Synapse': { walls: [], cpu: 0, ok: 0 },
      'Dendrite.forward btauth/1, ed25519 key': { walls: [], cpu: 0, ok: 0 },
    };
    const runs: Record<string, () => Promise<number>> = {
      'raw undici (baseline)': async () => {
        let ok = 0;
        await Promise.all(targets.map(async (t) => {
          const res = await raw.request({ origin: `http://${t.ip}:${t.port}`, path: '/BenchSynapse', method: 'POST', body: rawBody, headers: { 'content-type': 'application/json' } });
          const json = (await res.body.json()) as { answer?: number };
          if (res.statusCode === 200 && json.answer === 42) ok++;
        }));
        return ok;
      },
      'Dendrite.forward btauth/1': async () => (await bt.forward(targets, BenchSynapse, REQUEST, { timeoutMs: 10_000 })).filter((r) => r.ok).length,
      'Dendrite.forward v10 Synapse': async () => (await v10.forward(targets, BenchSynapse, REQUEST, { timeoutMs: 10_000 })).filter((r) => r.ok).length,
      'Dendrite.forward btauth/1, ed25519 key': async () => (await ed.forward(targets, BenchSynapse, REQUEST, { timeoutMs: 10_000 })).filter((r) => r.ok).length,
    };
    for (let i = 0; i < FANOUT_WARMUP; i++) for (const fn of Object.values(runs)) await fn();
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, fn] of Object.entries(runs)) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const ok = await fn();
        const r = rows[name]!;
        r.walls.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        r.cpu += c.user + c.system;
        r.ok = Math.min(r.ok === 0 && i === 0 ? ok : r.ok, ok);
      }
    }
    await bt.close();
    await v10.close();
    await ed.close();
    await raw.destroy();
    let out = `fan-out: N = ${N} node:http peers sleeping ${SLEEP_MS} ms; ${ROUNDS} rounds alternating the rows after ${FANOUT_WARMUP} warm-up rounds\n`;
    out += row(['', 'median wall ms', 'overhead ms', 'CPU µs/target', 'ok (min)']);
    for (const [name, r] of Object.entries(rows)) {
      const w = median(r.walls);
      out += row([name, w.toFixed(1), (w - SLEEP_MS).toFixed(1), (r.cpu / ROUNDS / N).toFixed(0), `${r.ok}/${N}`]);
    }
    const o = median(rows['Dendrite.forward btauth/1']!.walls) - SLEEP_MS;
    const base = median(rows['raw undici (baseline)']!.walls) - SLEEP_MS;
    out += `overhead = median wall − peer sleep (beyond the slowest peer); target btauth/1 ≤ 40 ms: ${o.toFixed(1)} ms — ${o <= 40 ? 'met' : 'NOT met'}\n`;
    // the floor: every target needs its own signature (receiver-bound), spread over this thread and one signing worker
    const signUs = signCostUs();
    out += `floor: ${N} sr25519 signatures × ${signUs.toFixed(0)} µs = ${((N * signUs) / 1000).toFixed(0)} ms of CPU over ${Math.min(2, cpus().length)} threads ≈ ${((N * signUs) / 1000 / Math.min(2, cpus().length)).toFixed(0)} ms, on top of raw undici's ${base.toFixed(1)} ms\n`;
    return out;
  } finally {
    await stopPeers(peers);
  }
}

function signCostUs(): number {
  const k = keypairFromUri('//Alice');
  const msg = new TextEncoder().encode('btauth/1 sign cost probe');
  for (let i = 0; i < 50; i++) sign(k, msg);
  const c0 = process.cpuUsage();
  for (let i = 0; i < 500; i++) sign(k, msg);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 500;
}

export async function run(): Promise<void> {
  await cryptoReady();
  process.stdout.write(`machine: ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)}\n`);
  // BENCH_BTAUTH_PART=server|fanout runs one half (default both)
  const part = process.env.BENCH_BTAUTH_PART;
  if (part !== 'fanout') process.stdout.write(await serverSide());
  if (part !== 'server') process.stdout.write(await fanOut());
}
