/**
 * Bench suite 'wire': what the axon's signed request path costs against its two floors.
 *  (a) raw sr25519 verifications/s — @polkadot/wasm-crypto directly, and util-crypto's sr25519Verify;
 *  (b) axon end-to-end: SDK-signed requests/s through the full pipeline (verify, blacklist, nonce, admission,
 *      handler, SDK response) on this process's single event loop;
 *  (c) a bare fastify route answering the same requests (JSON parse + echo, no verification).
 * The load generator (scripts/bench/wire-load.ts) runs in a child process on the other core. Rates are
 * given per wall second and per CPU second of this process (the machine is shared; CPU time is the fairer
 * measure of our cost). Target: (b) ≥ 60 % of (a).
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sr25519Verify as wasmVerify } from '@polkadot/wasm-crypto';
import { sr25519Verify as utilVerify } from '@polkadot/util-crypto';
import { stringToU8a } from '@polkadot/util';
import Fastify from 'fastify';
import { pino } from 'pino';
import { z } from 'zod';
import { createAxon } from '../../framework/axon/index.ts';
import { cryptoReady, keypairFromUri, sign } from '../../framework/wallet/keypair.ts';
import { defineSynapse, parseHeaders, parseSynapseBody, serializeSynapseBody, synapseBodyHash, toHeaders } from '../../framework/protocol/index.ts';

export const BenchEcho = defineSynapse({
  name: 'BenchEcho',
  request: z.object({ prompt: z.string(), seed: z.number().int() }),
  response: z.object({ answer: z.string() }),
  requiredHashFields: ['prompt', 'seed'],
});

const LOAD = fileURLToPath(new URL('./wire-load.ts', import.meta.url));
const COUNT = Number(process.env.WIRE_BENCH_REQUESTS ?? 8000);
// Long enough for every server's hot path to reach optimised code (500 left bare fastify at 2x its settled cost).
const WARMUP = Number(process.env.WIRE_BENCH_WARMUP ?? 3000);

export interface Rate {
  wall: number;
  cpu: number;
}

export function verifyRate(fn: () => boolean, ms: number): Rate {
  for (let i = 0; i < 50; i++) fn();
  const c = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 20; i++) if (!fn()) throw new Error('verification failed');
    n += 20;
  }
  const wall = performance.now() - t0;
  const u = process.cpuUsage(c);
  return { wall: (n * 1000) / wall, cpu: (n * 1e6) / (u.user + u.system) };
}

const LoadResult = z.object({ count: z.number(), ms: z.number(), statuses: z.record(z.number()) });

/** Run the load generator against a local port; counts this process's CPU during the send phase only. */
export function load(port: number, path: string, axonHotkey: string, count = COUNT, wire: 'synapse' | 'btauth' = 'synapse', timeout = 60): Promise<Rate & { statuses: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const args = JSON.stringify({ port, path, axonHotkey, count, inflight: 64, connections: 16, wire, timeout });
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD, args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let cpuStart: NodeJS.CpuUsage | undefined;
    let cpuUsed: NodeJS.CpuUsage | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (cpuStart === undefined && out.includes('READY\n')) cpuStart = process.cpuUsage();
      else if (cpuStart !== undefined && cpuUsed === undefined && out.trimEnd().endsWith('}')) cpuUsed = process.cpuUsage(cpuStart);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || cpuUsed === undefined) return reject(new Error(`load generator failed (exit ${code})`));
      const r = LoadResult.parse(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'));
      resolve({ wall: (r.count * 1000) / r.ms, cpu: (r.count * 1e6) / (cpuUsed.user + cpuUsed.system), statuses: r.statuses });
    });
  });
}

const TRIALS = Number(process.env.WIRE_BENCH_TRIALS ?? 3);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const medianRate = (rs: Rate[]): Rate => ({ wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)) });

export function mergeStatuses(all: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const st of all) for (const [k, n] of Object.entries(st)) out[k] = (out[k] ?? 0) + n;
  return out;
}

const fmt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const pct = (a: number, b: number) => (Number.isFinite(a / b) ? `${((a / b) * 100).toFixed(0)} %` : 'n/a');

export async function run(): Promise<void> {
  await cryptoReady();
  const axonKey = keypairFromUri('//Alice');
  const caller = keypairFromUri('//Bob');
  process.stdout.write(`machine: ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)}; ${COUNT} requests per server run after ${WARMUP} warm-up\n`);

  // (a) raw verification of a signing-message-sized message
  const msg = stringToU8a(`1763780000000000000.${caller.ss58Address}.${axonKey.ss58Address}.6a1e2f4c-c7a4-11ef-9c5e-0242ac120002.${'ab'.repeat(32)}`);
  const sig = sign(caller, msg);
  const util = verifyRate(() => utilVerify(msg, sig, caller.publicKey), 1500);

  // (b) axon end to end, in TRIALS trials alternating with (a) trials: a single trial of either moves by
  // ±10 % on this VM, and alternating keeps drift from favouring one side. Medians are reported.
  const callers = { lookup: (hk: string) => ({ uid: hk.length % 7, stake: 1_000n, validatorPermit: true }) };
  const axon = createAxon({ keypair: axonKey, callers, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), rateLimit: false, admission: { maxConcurrent: 64, maxQueue: 4096 } });
  axon.attach(BenchEcho, (req) => ({ answer: `${req.prompt.length}:${req.seed}` }));
  await axon.start();
  await load(axon.port, '/BenchEcho', axonKey.ss58Address, WARMUP); // JIT warm-up, not measured
  const wasmTrials: Rate[] = [];
  const axTrials: Array<Rate & { statuses: Record<string, number> }> = [];
  for (let t = 0; t < TRIALS; t++) {
    wasmTrials.push(verifyRate(() => wasmVerify(sig, msg, caller.publicKey), 1000));
    axTrials.push(await load(axon.port, '/BenchEcho', axonKey.ss58Address));
  }
  await axon.stop();
  const wasm = medianRate(wasmTrials);
  const ax = { ...medianRate(axTrials), statuses: mergeStatuses(axTrials.map((r) => r.statuses)) };

  // (c) bare fastify with the same requests
  const bare = Fastify();
  bare.post('/BenchEcho', async (req) => ({ ...(req.body as Record<string, unknown>), answer: 'x' }));
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const addr = bare.server.address();
  const bport = typeof addr === 'object' && addr ? addr.port : 0;
  await load(bport, '/BenchEcho', axonKey.ss58Address, WARMUP);
  const bf = await load(bport, '/BenchEcho', axonKey.ss58Address);
  await bare.close();

  // (c2) bare fastify + the protocol's header/body parsing, hashing and SDK response (no verification):
  // separates the protocol's cost from the axon pipeline's own
  const proto = Fastify();
  proto.removeAllContentTypeParsers();
  proto.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  proto.post('/BenchEcho', async (req, reply) => {
    const h = parseHeaders(req.headers);
    const parsed = parseSynapseBody(BenchEcho, req.body as string);
    if (synapseBodyHash(BenchEcho, parsed.raw) !== h.computed_body_hash) return reply.code(401).send({ message: 'hash' });
    const body = { ...parsed.raw, answer: "x" } as unknown as Parameters<typeof toHeaders>[1];
    return reply.headers(toHeaders(BenchEcho, body, { bodyHash: h.computed_body_hash ?? '' })).type('application/json').send(serializeSynapseBody(BenchEcho, body, { compact: true, ensureAscii: false }));
  });
  await proto.listen({ host: '127.0.0.1', port: 0 });
  const paddr = proto.server.address();
  const pport = typeof paddr === 'object' && paddr ? paddr.port : 0;
  await load(pport, '/BenchEcho', axonKey.ss58Address, WARMUP);
  const pf = await load(pport, '/BenchEcho', axonKey.ss58Address);
  await proto.close();

  const rows: Array<[string, Rate, string]> = [
    ['(a) sr25519 verify, wasm-crypto', wasm, '100 % (baseline)'],
    ['(a) sr25519 verify, util-crypto', util, pct(util.cpu, wasm.cpu)],
    ['(b) axon end to end, signed', ax, pct(ax.cpu, wasm.cpu)],
    ['(c) bare fastify route', bf, pct(bf.cpu, wasm.cpu)],
    ['(c2) fastify + protocol, no verify', pf, pct(pf.cpu, wasm.cpu)],
  ];
  process.stdout.write(`${'case'.padEnd(36)} ${'per wall s'.padStart(12)} ${'per CPU s'.padStart(12)}  vs (a) per CPU s\n`);
  for (const [name, r, ratio] of rows) process.stdout.write(`${name.padEnd(36)} ${fmt(r.wall).padStart(12)} ${fmt(r.cpu).padStart(12)}  ${ratio}\n`);
  process.stdout.write(`statuses: axon ${JSON.stringify(ax.statuses)}, fastify ${JSON.stringify(bf.statuses)}, fastify+protocol ${JSON.stringify(pf.statuses)}\n`);
  const us = (r: Rate) => 1e6 / r.cpu;
  process.stdout.write(
    `CPU µs per request: verify ${us(wasm).toFixed(0)}, bare fastify ${us(bf).toFixed(0)}, protocol parse/hash/serialize ${(us(pf) - us(bf)).toFixed(0)}, ` +
      `axon total ${us(ax).toFixed(0)} (its own pipeline ≈ ${(us(ax) - us(pf) - us(wasm)).toFixed(0)})\n`,
  );
  const trialRatios = axTrials.map((r, i) => pct(r.cpu, (wasmTrials[i] as Rate).cpu)).join(', ');
  process.stdout.write(`(b) / (a) per CPU s in each of the ${TRIALS} alternating trials: ${trialRatios}; the table shows medians\n`);
  process.stdout.write(`axon / bare fastify (per CPU s): ${pct(ax.cpu, bf.cpu)}; target (b) ≥ 60 % of (a): ${ax.cpu >= 0.6 * wasm.cpu ? 'met' : 'NOT met'}\n`);
}
