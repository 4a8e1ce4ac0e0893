/**
 * `npm run bench -- inference`, ratios measured in one run on one machine and model:
 *  (1) validator verification CPU time vs the generation time of the same 128-token answer (target ≤ 1/10);
 *  (2) miner tokens/s through the onnx backend (worker thread, shared-memory stream, sampling + logprobs)
 *      vs a raw onnxruntime-node session loop on the same model (target ≥ 80 %);
 *  (3) gateway overhead per streamed token vs streaming from the miner directly with the dendrite, and the
 *      miner's /healthz latency while it streams vs idle;
 *  (4) the main thread's event loop while the onnx backend generates (utilisation, delay p99) vs the same loop
 *      run on the main thread.
 * Env: BENCH_INFERENCE_ANSWERS (default 6), BENCH_INFERENCE_TOKENS (128), BENCH_INFERENCE_PARTS (default 1234: which
 * of the measurements above to run).
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { LocalChain } from '../../framework/chain/index.ts';
import type { MinerAnswer } from '../../framework/commodity/define.ts';
import { Dendrite } from '../../framework/dendrite/dendrite.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { createTextInference } from './src/commodity.ts';
import { startGateway } from './src/gateway.ts';
import { generateTokens, type GenerateParams, type TokenEvent } from './src/generate.ts';
import { inferenceMiner } from './src/miner.ts';
import { BUNDLED_MODEL_ID, ensureModel } from './src/model-builder.ts';
import { OnnxBackend } from './src/onnx-backend.ts';
import { topIndices } from './src/sampler.ts';
import { OnnxLm } from './src/session.ts';
import { queryPromptIds } from './src/prompts.ts';
import { ByteTokenizer, chatPrompt, promptIds } from './src/tokenizer.ts';
import { finishEvent, tokenEvent, type InferenceQuery } from './src/wire.ts';

export const description = 'text-inference: verification vs generation, onnx backend vs raw session, gateway overhead per token';

const ANSWERS = Number(process.env.BENCH_INFERENCE_ANSWERS ?? 6);
const TOKENS = Number(process.env.BENCH_INFERENCE_TOKENS ?? 128);
const PARTS = new Set((process.env.BENCH_INFERENCE_PARTS ?? '1234').split(''));
/** Miners per round answering one prompt (the commodity's default sample size): the prefill is shared by them. */
const ROUND_MINERS = 16;
/**
 * Answers generated and verified before the measured ones: JIT and first allocations (measured: with one, the
 * first measurement of a fresh process paid 5–8 ms more per prompt prefill than the same part run again).
 */
const WARM_UP = 3;
const tok = new ByteTokenizer();
// gc() without --expose-gc on the command line (npm run bench runs tsx)
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const out = (s: string) => process.stdout.write(`${s}\n`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

/** Polls `url` every 10 ms until `stop()`; returns the latencies (ms). */
function pollLatency(url: string): { stop: () => Promise<number[]> } {
  const lat: number[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const t = performance.now();
      await (await fetch(url)).arrayBuffer();
      lat.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return { stop: async () => ((on = false), await loop, lat) };
}

function prompt(i: number): number[] {
  return promptIds(tok, chatPrompt([{ role: 'user', content: `Tell me something about topic number ${i}.` }]));
}
function query(i: number): InferenceQuery {
  return { model: BUNDLED_MODEL_ID, messages: [{ role: 'user', content: `Tell me something about topic number ${i}.` }], prompt: null, temperature: 0.7, top_k: 8, top_p: 0.95, max_tokens: TOKENS, seed: 1000 + i, logprobs: 5 };
}
// EOS disabled so every answer is exactly TOKENS long (the verifier is told so: finish = length)
const params = (seed: number): GenerateParams => ({ temperature: 0.7, topK: 8, topP: 0.95, seed, maxTokens: TOKENS, logprobs: 5, eosId: -1 });

/** A miner's answer as the validator's scorer receives it: the SSE payloads of the stream, timestamped. */
function minerAnswer(q: InferenceQuery, tokens: readonly TokenEvent[], hotkey: string): MinerAnswer<InferenceQuery, unknown> {
  const at = performance.now();
  const chunks = [...tokens.map((t, i) => ({ data: tokenEvent(t).slice(6, -2), receivedAt: at + i })), { data: finishEvent('length').slice(6, -2), receivedAt: at + tokens.length }];
  return {
    uid: 0, hotkey, ok: true, statusCode: 200, statusMessage: null, latencyMs: tokens.length, query: q, response: { completion: null },
    stream: { chunks, timeToFirstChunkMs: 1, chunksPerSecond: 1000 },
  };
}

/**
 * Generation vs the validator's whole per-answer path (`measure`: parse the stream, tokenize the prompt,
 * prefill it unless cached, one batched pass over the response, the checks), same machine, model and
 * session settings (1 intra-op thread; `threads2` repeats it with the validator's default of 2).
 */
async function verificationVsGeneration(modelPath: string, label: string, verifierThreads: number) {
  const lm = await OnnxLm.load(modelPath, { threads: 1 });
  const inference = createTextInference({ referenceModelPath: modelPath, verifierThreads, tokenizer: tok });
  // all generations, then all verifications: a validator verifies a round's answers back to back (measured
  // interleaved, the first verification after a generation paid 3–10 ms of cold caches from the other session)
  const gens: Array<{ q: InferenceQuery; tokens: TokenEvent[]; genWall: number; genCpu: number }> = [];
  for (let i = 0; i < ANSWERS + WARM_UP; i++) {
    const q = query(i);
    const t = performance.now();
    const c = cpuMs();
    const tokens: TokenEvent[] = [];
    const g = generateTokens(lm, queryPromptIds(tok, q), params(q.seed));
    for (let r = await g.next(); !r.done; r = await g.next()) tokens.push(r.value.id === tok.eosId ? { ...r.value, id: 32 } : r.value);
    gens.push({ q, tokens, genWall: performance.now() - t, genCpu: cpuMs() - c });
  }
  // the generations' garbage is the miner's, not the validator's: collect it now, or V8's concurrent GC
  // threads sweep it during the first verifications and process.cpuUsage() bills them (measured: +2–4 ms of
  // "prefill" CPU in the first part of a process, the effect noted above)
  collectGarbage();
  collectGarbage();
  await new Promise((r) => setTimeout(r, 100));
  const rows: Array<{ genWall: number; genCpu: number; firstWall: number; firstCpu: number; restWall: number; restCpu: number }> = [];
  let passed = 0;
  for (const [i, { q, tokens, genWall, genCpu }] of gens.entries()) {
    // the first answer to a prompt pays its prefill; the round's other miners answered the same prompt
    const first = minerAnswer(q, tokens, 'first');
    const other = minerAnswer(q, tokens, 'other');
    let t = performance.now();
    let c = cpuMs();
    const m = await inference.measure(first);
    const firstWall = performance.now() - t;
    const firstCpu = cpuMs() - c;
    t = performance.now();
    c = cpuMs();
    await inference.measure(other);
    const restWall = performance.now() - t;
    const restCpu = cpuMs() - c;
    if (i >= WARM_UP) rows.push({ genWall, genCpu, firstWall, firstCpu, restWall, restCpu });
    if (i >= WARM_UP && m.quality > 0) passed++;
  }
  await (await inference.verifier()).lm.release();
  await lm.release();
  const med = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
  const [g, gc, fw, fc, rw, rc] = [med('genWall'), med('genCpu'), med('firstWall'), med('firstCpu'), med('restWall'), med('restCpu')];
  const prefill = Math.max(0, fc - rc);
  const amortised = rc + prefill / ROUND_MINERS;
  const pct = (x: number) => `${x.toFixed(3)} (1/${(1 / x).toFixed(1)})`;
  out(`(1${label}) ${TOKENS}-token answers, medians of ${rows.length}, EOS disabled so every answer has ${TOKENS} tokens (${passed} still passed every check): generation ${g.toFixed(1)} ms wall / ${gc.toFixed(1)} ms CPU; validator per answer (parse + tokenize + prefill + batched pass + checks, ${verifierThreads} thread${verifierThreads > 1 ? 's' : ''}) ${fw.toFixed(1)} ms wall / ${fc.toFixed(2)} ms CPU, of which prompt prefill ≈ ${prefill.toFixed(2)} ms CPU; a further miner's answer to the same prompt ${rw.toFixed(1)} ms wall / ${rc.toFixed(2)} ms CPU`);
  out(`    verification CPU / generation time: per answer with its own prefill ${pct(fc / g)}; prefill amortised over ${ROUND_MINERS} miners ${pct(amortised / g)}; prefill fully shared ${pct(rc / g)} (target ≤ 1/10: own prefill ${fc / g <= 0.1 ? 'PASS' : 'MISS'}, amortised ${amortised / g <= 0.1 ? 'PASS' : 'MISS'}) | CPU / CPU: ${pct(fc / gc)}, ${pct(amortised / gc)}, ${pct(rc / gc)}`);
}

async function backendVsRaw(modelPath: string) {
  const lm = await OnnxLm.load(modelPath, { threads: 1 });
  const raw = async (p: number[]) => {
    let { logits, vocab, cache } = await lm.forward(p, lm.emptyCache());
    let next = topIndices(logits.subarray(logits.length - vocab), 1)[0]!;
    for (let i = 1; i < TOKENS; i++) {
      ({ logits, vocab, cache } = await lm.forward([next], cache));
      next = topIndices(logits, 1)[0]!;
    }
  };
  const backend = new OnnxBackend({ modelPath, modelId: BUNDLED_MODEL_ID, threads: 1 });
  const viaBackend = async (p: number[], seed: number) => {
    const g = backend.generate({ promptText: '', promptIds: p, params: params(seed) });
    for (let r = await g.next(); !r.done; r = await g.next());
  };
  await raw(prompt(0));
  await viaBackend(prompt(0), 0);
  const rawRates: number[] = [];
  const backendRates: number[] = [];
  for (let i = 1; i <= ANSWERS; i++) {
    // alternate so load changes on the shared machine hit both alike
    let t = performance.now();
    await raw(prompt(i));
    rawRates.push((TOKENS * 1000) / (performance.now() - t));
    t = performance.now();
    await viaBackend(prompt(i), i);
    backendRates.push((TOKENS * 1000) / (performance.now() - t));
  }
  await backend.close();
  await lm.release();
  const r = median(rawRates);
  const b = median(backendRates);
  out(`(2) tokens/s, medians of ${ANSWERS}: raw onnxruntime session loop (greedy, main thread) ${r.toFixed(0)}; onnx backend (worker, seeded sampler, top-5 logprobs, streamed) ${b.toFixed(0)}`);
  out(`    backend / raw = ${((100 * b) / r).toFixed(1)} % (target ≥ 80 %) ${b / r >= 0.8 ? 'PASS' : 'MISS'}`);
}

async function gatewayOverhead(modelPath: string) {
  await cryptoReady();
  const log = pino({ level: 'silent' });
  const chain = await LocalChain.create({ blockTimeMs: 0 });
  const owner = keypairFromUri('//Alice');
  const vkey = keypairFromUri('//bench/validator');
  const netuid = await chain.registerNetwork(owner, vkey.ss58Address);
  await chain.setHyperparameters(owner, netuid, { servingRateLimit: 0, immunityPeriod: 5000 });
  const mkey = keypairFromUri('//bench/miner');
  await chain.burnedRegister(keypairFromUri('//Bob'), netuid, mkey.ss58Address);
  await chain.produceBlocks(1);
  const backend = new OnnxBackend({ modelPath, modelId: BUNDLED_MODEL_ID, threads: 1 });
  const inference = createTextInference({ miner: inferenceMiner(backend, tok) });
  const miner = await startMiner({ chain, netuid, hotkey: mkey, commodity: inference.commodity, logger: log, axon: { host: '127.0.0.1', port: 0 } });
  await chain.produceBlocks(1);
  const dendrite = new Dendrite(vkey);
  const gw = await startGateway({ inference, chain, netuid, dendrite, scores: () => ({ [mkey.ss58Address]: 1 }), apiKeys: ['bench'], spotCheckShare: 0 });
  const target = { ip: '127.0.0.1', port: miner.port, hotkey: mkey.ss58Address };
  const messages = [{ role: 'user' as const, content: 'Tell me something about rivers.' }];
  const direct = async (seed: number) => {
    const t = performance.now();
    const r = await dendrite.stream(target, inference.commodity.synapse, { model: BUNDLED_MODEL_ID, messages, prompt: null, temperature: 0.7, top_k: 8, top_p: 0.95, max_tokens: TOKENS, seed, logprobs: 5 }, { framing: 'sse', timeoutMs: 60_000 });
    return { ms: performance.now() - t, tokens: r.chunks.length - 1 };
  };
  const viaGateway = async (seed: number) => {
    const t = performance.now();
    const res = await fetch(`http://127.0.0.1:${gw.port}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
      body: JSON.stringify({ model: BUNDLED_MODEL_ID, messages, temperature: 0.7, top_k: 8, top_p: 0.95, max_tokens: TOKENS, seed, stream: true }),
    });
    const text = await res.text();
    return { ms: performance.now() - t, tokens: text.split('\n\n').filter((l) => l.includes('"content"') && !l.includes('"role"')).length };
  };
  await direct(0);
  await viaGateway(0);
  const health = `http://127.0.0.1:${miner.port}/healthz`;
  let poll = pollLatency(health);
  await new Promise((r) => setTimeout(r, 1500));
  const idle = await poll.stop();
  poll = pollLatency(health);
  for (let i = 100; i < 100 + ANSWERS; i++) await direct(i);
  const busy = await poll.stop();
  const per: number[] = [];
  let dMs = 0;
  let gMs = 0;
  for (let i = 1; i <= ANSWERS; i++) {
    const d = await direct(i);
    const g = await viaGateway(i);
    dMs += d.ms;
    gMs += g.ms;
    per.push((g.ms - d.ms) / Math.max(1, d.tokens));
  }
  await gw.close();
  await dendrite.close();
  await miner.stop();
  await backend.close();
  await chain.close();
  out(`(3) streamed answers (same seeds): direct dendrite ${(dMs / ANSWERS).toFixed(1)} ms, through the gateway ${(gMs / ANSWERS).toFixed(1)} ms; overhead per streamed token (median) ${(1000 * median(per)).toFixed(0)} µs (${((100 * (gMs - dMs)) / dMs).toFixed(1)} % of the direct time)`);
  out(`    miner /healthz while it streams: median ${median(busy).toFixed(1)} ms, p99 ${p99(busy).toFixed(1)} ms (${busy.length} polls); idle: median ${median(idle).toFixed(1)} ms, p99 ${p99(idle).toFixed(1)} ms`);
}

async function eventLoop(modelPath: string) {
  const measure = async (gen: () => AsyncGenerator<unknown, unknown>) => {
    const h = monitorEventLoopDelay({ resolution: 5 });
    const e0 = performance.eventLoopUtilization();
    h.enable();
    const g = gen();
    for (let r = await g.next(); !r.done; r = await g.next());
    h.disable();
    return { elu: performance.eventLoopUtilization(e0).utilization, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  };
  const backend = new OnnxBackend({ modelPath, modelId: BUNDLED_MODEL_ID, threads: 1 });
  const lm = await OnnxLm.load(modelPath, { threads: 1 });
  const long = { ...params(0), maxTokens: 3 * TOKENS }; // prompt + 3 × 128 stays within the 512 positions
  const viaWorker = () => backend.generate({ promptText: '', promptIds: prompt(0), params: long });
  const inline = () => generateTokens(lm, prompt(0), long);
  await measure(viaWorker);
  const w = await measure(viaWorker);
  const m = await measure(inline);
  await backend.close();
  await lm.release();
  out(`(4) event loop of the miner's thread during a ${3 * TOKENS}-token generation: onnx backend (worker) utilisation ${w.elu.toFixed(3)}, delay p99 ${w.p99.toFixed(1)} ms (max ${w.max.toFixed(1)}); same loop on the main thread utilisation ${m.elu.toFixed(3)}, delay p99 ${m.p99.toFixed(1)} ms (max ${m.max.toFixed(1)})`);
}

export async function run(): Promise<void> {
  const modelPath = ensureModel();
  out(`model ${modelPath}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (PARTS.has('1')) {
    await verificationVsGeneration(modelPath, '', 1);
    await verificationVsGeneration(modelPath, 'b', 2);
  }
  if (PARTS.has('2')) await backendVsRaw(modelPath);
  if (PARTS.has('3')) await gatewayOverhead(modelPath);
  if (PARTS.has('4')) await eventLoop(modelPath);
  out(`load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}
