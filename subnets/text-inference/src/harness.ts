/**
 * The adversarial harness: a LocalChain subnet with one validator running the text-inference commodity,
 * honest miners and one miner per cheat, all on real axons over 127.0.0.1, each miner with its own onnx
 * worker. Runs until `epochs` epochs have passed (or `maxSeconds`) and reports every miner's share of the
 * miner incentive from the chain's Yuma output. Used by the test and by `npm run demo -- text-inference`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { LocalChain, RAO_PER_TAO } from '../../../framework/chain/index.ts';
import type { Metagraph } from '../../../framework/chain/types.ts';
import { startMiner, type MinerHandle } from '../../../framework/miner/index.ts';
import { startValidator, type ValidatorHandle } from '../../../framework/validator/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../../framework/wallet/keypair.ts';
import { createTextInference, type TextInference } from './commodity.ts';
import { inferenceMiner, type Behavior } from './miner.ts';
import { BUNDLED_MODEL_ID, BUNDLED_SPEC, ensureModel, type ModelSpec } from './model-builder.ts';
import { OnnxBackend } from './onnx-backend.ts';
import { ByteTokenizer, promptIds, type Tokenizer } from './tokenizer.ts';

/** The cheaper model the 'other-model' cheat runs: one layer, no dependence on the previous token. */
export const SMALL_SPEC: ModelSpec = { ...BUNDLED_SPEC, seed: 2, table: 'unigram', layers: 1, dModel: 264, ffn: 128 };

export const DEFAULT_LINEUP: readonly Behavior[] = ['honest', 'honest', 'honest', 'slow', 'random', 'other-model', 'cached', 'fake-logprobs', 'early-stop', 'runaway'];

export interface HarnessOptions {
  lineup?: readonly Behavior[];
  /** Epochs to run after the first weights landed (default 3). */
  epochs?: number;
  /** Validator rounds at least (default 8), so the EMA has settled. */
  minRounds?: number;
  maxSeconds?: number;
  blockMs?: number;
  tempo?: number;
  slowMs?: number;
  logger?: Logger;
  /** Called once per block with the latest metagraph (the demo draws a table). */
  onBlock?: (view: HarnessView) => void;
  /** The validator's reference model (default: the bundled model); a missing file simulates a validator-side failure. */
  referenceModelPath?: string;
  /**
   * The model every honest miner and the validator run (default: the bundled one), e.g. a standard exported
   * decoder from `loadExportedModel`. The 'other-model' cheat needs the bundled vocabulary.
   */
  model?: { modelPath: string; modelId: string; tokenizer: Tokenizer };
  /** Extra work while the subnet runs (the gateway test sends organic traffic here). */
  during?: (net: RunningSubnet) => Promise<void>;
}

export interface MinerRow {
  label: string;
  behavior: Behavior;
  hotkey: string;
  uid: number;
  /** Share of the total miner incentive (0–1). */
  share: number;
  score: number | undefined;
  verified: number;
  passed: number;
  /** Answers the behaviour left unchanged (a cheat with nothing to cut): these may pass verification. */
  untampered: number;
  lastFailure: string;
}

export interface HarnessView {
  block: number;
  epochs: number;
  seconds: number;
  rows: MinerRow[];
}

export interface RunningSubnet {
  chain: LocalChain;
  validatorKey: Keypair;
  netuid: number;
  validator: ValidatorHandle;
  inference: TextInference;
  miners: Array<{ behavior: Behavior; hotkey: string; handle: MinerHandle }>;
}

export interface HarnessResult extends HarnessView {
  honestShare: number;
}

export async function runHarness(opts: HarnessOptions = {}): Promise<HarnessResult> {
  const lineup = opts.lineup ?? DEFAULT_LINEUP;
  const epochsWanted = opts.epochs ?? 3;
  const minRounds = opts.minRounds ?? 8;
  const maxSeconds = opts.maxSeconds ?? 90;
  const log = opts.logger ?? pino({ level: 'silent' });
  const started = Date.now();
  await cryptoReady();
  if (opts.model && lineup.includes('other-model')) throw new Error("the 'other-model' cheat runs the bundled small model: not with a custom model");
  const modelPath = opts.model?.modelPath ?? ensureModel();
  const modelId = opts.model?.modelId ?? BUNDLED_MODEL_ID;
  const smallPath = lineup.includes('other-model') ? ensureModel(SMALL_SPEC) : modelPath;
  const stateDir = mkdtempSync(join(tmpdir(), 'text-inference-'));
  const chain = await LocalChain.create({ blockTimeMs: opts.blockMs ?? 250 });
  const cleanups: Array<() => Promise<void>> = [async () => chain.close(), async () => rmSync(stateDir, { recursive: true, force: true })];
  try {
    const owner = keypairFromUri('//Alice');
    const validatorKey = keypairFromUri('//text-inference/validator');
    const netuid = await chain.registerNetwork(owner, validatorKey.ss58Address);
    await chain.setHyperparameters(owner, netuid, { tempo: opts.tempo ?? 10, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false, immunityPeriod: 5000, servingRateLimit: 0 });
    await chain.addStake(owner, validatorKey.ss58Address, netuid, 1000n * RAO_PER_TAO);
    const minerColdkey = keypairFromUri('//Dave');
    const tok = opts.model?.tokenizer ?? new ByteTokenizer();
    const stats = new Map<string, { verified: number; passed: number; lastFailure: string }>();
    const untampered = new Map<string, number>();
    const inference = createTextInference({
      modelId,
      tokenizer: tok,
      referenceModelPath: opts.referenceModelPath ?? modelPath,
      verifierThreads: 2,
      maxTokens: { min: 16, max: 32 },
      timeoutMs: 20_000,
      onVerified: (hotkey, r) => {
        const s = stats.get(hotkey) ?? { verified: 0, passed: 0, lastFailure: '' };
        s.verified++;
        if (r.pass) s.passed++;
        else s.lastFailure = r.failures[0] ?? '';
        stats.set(hotkey, s);
      },
    });
    const miners: RunningSubnet['miners'] = [];
    // Miners share two onnx worker pools (real model, small model): ten model workers on a 2-core machine
    // would spend the demo's time budget starting up. Each generation still runs in a worker thread.
    const real = new OnnxBackend({ modelPath, modelId, threads: 1, workers: 2 });
    const small = new OnnxBackend({ modelPath: smallPath, modelId, threads: 1, workers: 1 });
    const backends = lineup.includes('other-model') ? [real, small] : [real];
    cleanups.push(() => real.close(), () => small.close());
    for (const [i, behavior] of lineup.entries()) {
      const hotkey = keypairFromUri(`//text-inference/miner/${i}`);
      await chain.burnedRegister(minerColdkey, netuid, hotkey.ss58Address);
      const backend = behavior === 'other-model' ? small : real;
      const side = inferenceMiner(backend, tok, {
        behavior: behavior === 'other-model' ? 'honest' : behavior, slowMs: opts.slowMs ?? 40, seed: i,
        onAnswer: (tampered) => { if (!tampered && behavior !== 'other-model') untampered.set(hotkey.ss58Address, (untampered.get(hotkey.ss58Address) ?? 0) + 1); },
      });
      const handle = await startMiner({ chain, netuid, hotkey, commodity: inference.commodity, miner: side, logger: log, axon: { host: '127.0.0.1', port: 0 }, axonOptions: { nonce: { capacity: 10_000, maxFutureMs: 5_000, reorderWindowMs: 2_000 } } });
      miners.push({ behavior, hotkey: hotkey.ss58Address, handle });
      cleanups.push(() => handle.stop());
    }
    // warm every worker (tsx + onnxruntime + model load) before the clock matters
    await Promise.all([...backends, ...backends.slice(0, 1)].map(async (b) => {
      const g = b.generate({ promptText: 'a', promptIds: promptIds(tok, 'a'), params: { temperature: 0, topK: 0, topP: 1, seed: 0, maxTokens: 1, logprobs: 0, eosId: tok.eosId } });
      for (let r = await g.next(); !r.done; r = await g.next());
    }));
    await inference.verifier().catch(() => {}); // a broken reference model shows up in scoring, not here
    const validator = await startValidator({
      chain, netuid, hotkey: validatorKey, commodity: inference.commodity, statePath: join(stateDir, 'validator'),
      options: { alpha: 0.4, resyncEveryBlocks: 5, concurrency: 1, roundIntervalMs: 200, logger: log },
    });
    cleanups.push(() => validator.stop());
    const net: RunningSubnet = { chain, validatorKey, netuid, validator, inference, miners };

    const firstEpoch = await chain.getEpochIndex(netuid);
    let view: HarnessView = { block: 0, epochs: 0, seconds: 0, rows: [] };
    const viewOf = (m: Metagraph, block: number, epochs: number): HarnessView => {
      const inc = miners.map((x) => m.incentive[m.hotkeys.indexOf(x.hotkey)] ?? 0);
      const total = inc.reduce((a, b) => a + b, 0);
      const scores = validator.state.scores();
      const rows = miners.map((x, i): MinerRow => {
        const s = stats.get(x.hotkey);
        return {
          label: `miner ${i + 1}`, behavior: x.behavior, hotkey: x.hotkey, uid: m.hotkeys.indexOf(x.hotkey),
          share: total > 0 ? inc[i]! / total : 0, score: scores[x.hotkey], verified: s?.verified ?? 0, passed: s?.passed ?? 0, untampered: untampered.get(x.hotkey) ?? 0, lastFailure: s?.lastFailure ?? '',
        };
      });
      return { block, epochs, seconds: (Date.now() - started) / 1000, rows };
    };
    const during = opts.during ? opts.during(net) : Promise.resolve();
    during.catch(() => {}); // awaited (and rethrown) below, after the block loop
    let weightsEpoch: number | null = null;
    await new Promise<void>((done) => {
      let busy = false;
      const unsubscribe = chain.subscribeBlocks((b) => {
        if (busy) return;
        busy = true;
        void (async () => {
          const m = await chain.getMetagraph(netuid);
          const epochs = (await chain.getEpochIndex(netuid)) - firstEpoch;
          view = viewOf(m, b.number, epochs);
          opts.onBlock?.(view);
          // count epochs only once weights were set: incentive before that says nothing
          if (weightsEpoch === null && validator.state.lastWeightsBlock > 0) weightsEpoch = epochs;
          const enough = weightsEpoch !== null && epochs - weightsEpoch >= epochsWanted && validator.state.step >= minRounds;
          if (enough || Date.now() - started > maxSeconds * 1000) {
            unsubscribe();
            done();
          }
          busy = false;
        })().catch(() => {
          busy = false;
        });
      });
    });
    await during;
    const honest = view.rows.filter((r) => r.behavior === 'honest' || r.behavior === 'slow');
    return { ...view, honestShare: honest.reduce((a, r) => a + r.share, 0) };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

/** The harness's pass conditions (issue #11 §3), as readable failures; empty = pass. */
export function judge(r: HarnessResult): string[] {
  const out: string[] = [];
  const fast = r.rows.filter((x) => x.behavior === 'honest');
  const slow = r.rows.filter((x) => x.behavior === 'slow');
  const honest = [...fast, ...slow];
  const cheaters = r.rows.filter((x) => x.behavior !== 'honest' && x.behavior !== 'slow');
  const avgHonest = honest.reduce((a, x) => a + x.share, 0) / Math.max(1, honest.length);
  if (r.honestShare < 0.9) out.push(`honest miners hold ${(100 * r.honestShare).toFixed(1)} % < 90 %`);
  for (const c of cheaters) if (c.share > 0.1 * avgHonest) out.push(`${c.behavior} earns ${(100 * c.share).toFixed(2)} % > 10 % of the average honest miner`);
  const maxCheat = Math.max(0, ...cheaters.map((c) => c.share));
  for (const s of slow) {
    for (const f of fast) if (!(s.share < f.share)) out.push(`slow miner (${(100 * s.share).toFixed(1)} %) does not earn less than ${f.label} (${(100 * f.share).toFixed(1)} %)`);
    if (!(s.share > maxCheat)) out.push(`slow miner (${(100 * s.share).toFixed(1)} %) does not beat every cheater`);
  }
  return out;
}

export function formatRows(rows: readonly MinerRow[]): string {
  const head = `${'miner'.padEnd(9)}${'behaviour'.padEnd(15)}${'uid'.padStart(4)}  ${'incentive share'.padStart(15)}  ${'score'.padStart(7)}  ${'passed'.padStart(9)}  ${'unchanged'.padStart(9)}  first failure of the last failed answer`;
  const lines = rows.map((r) =>
    `${r.label.padEnd(9)}${r.behavior.padEnd(15)}${String(r.uid).padStart(4)}  ${`${(100 * r.share).toFixed(2)} %`.padStart(15)}  ${(r.score ?? 0).toFixed(4).padStart(7)}  ${`${r.passed}/${r.verified}`.padStart(9)}  ${(r.behavior === 'honest' || r.behavior === 'slow' ? '' : String(r.untampered)).padStart(9)}  ${r.lastFailure}`,
  );
  return [head, ...lines].join('\n');
}
