/**
 * `npm run demo`: the whole market on one laptop. An in-process LocalChain with fast blocks, a subnet
 * running the template puzzle commodity, 2 validators and 8 miners (3 of them misbehave: wrong answers,
 * slow answers, offline), real axons and dendrites over 127.0.0.1. Runs until enough epochs have
 * passed, refreshing a table every block, then prints a summary.
 * Exit 0 only if the honest miners hold ≥ 90 % of the miner incentive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { LocalChain, RAO_PER_TAO } from '../framework/chain/index.ts';
import type { Metagraph } from '../framework/chain/types.ts';
import { formatTao } from '../framework/cli/config.ts';
import { renderTable, u16Fraction } from '../framework/util/table.ts';
import { UserError } from '../framework/errors.ts';
import { startMiner, type MinerHandle } from '../framework/miner/index.ts';
import { startValidator, type ValidatorHandle } from '../framework/validator/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../framework/wallet/keypair.ts';
import { createPuzzleCommodity, puzzleMiner, type MinerBehavior } from '../templates/src/commodity.ts';

const env = z
  .object({
    DEMO_EPOCHS: z.coerce.number().int().min(3).max(100).default(6),
    DEMO_BLOCK_MS: z.coerce.number().int().min(50).max(12_000).default(200),
    DEMO_TEMPO: z.coerce.number().int().min(5).max(360).default(12),
    DEMO_COMMIT_REVEAL: z.enum(['on', 'off']).default('off'),
    DEMO_MAX_SECONDS: z.coerce.number().int().min(10).default(85),
  })
  .safeParse(process.env);
if (!env.success) {
  const i = env.error.issues[0]!;
  process.stderr.write(`error: invalid $${String(i.path[0])}: ${i.message}\n`);
  process.exit(2);
}
const cfg = env.data;

type Role = 'owner' | 'validator' | 'miner';
interface Participant {
  label: string;
  role: Role;
  behavior?: MinerBehavior;
  hotkey: Keypair;
}

const started = Date.now();
const tty = process.stdout.isTTY === true;
const out = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  await cryptoReady();
  const stateDir = mkdtempSync(join(tmpdir(), 'subnetkit-demo-'));
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const chain = await LocalChain.create({ blockTimeMs: cfg.DEMO_BLOCK_MS });

  const owner = keypairFromUri('//Alice');
  const validatorColdkeys = [keypairFromUri('//Bob'), keypairFromUri('//Charlie')];
  const minerColdkey = keypairFromUri('//Dave');
  const behaviors: MinerBehavior[] = ['honest', 'honest', 'wrong', 'honest', 'slow', 'honest', 'offline', 'honest'];
  const people: Participant[] = [
    { label: 'owner', role: 'owner', hotkey: keypairFromUri('//demo/owner') },
    { label: 'validator A', role: 'validator', hotkey: keypairFromUri('//demo/validator/A') },
    { label: 'validator B', role: 'validator', hotkey: keypairFromUri('//demo/validator/B') },
    ...behaviors.map((behavior, i): Participant => ({ label: `miner ${i + 1}`, role: 'miner', behavior, hotkey: keypairFromUri(`//demo/miner/${i + 1}`) })),
  ];

  // --- the subnet ---
  const netuid = await chain.registerNetwork(owner, people[0]!.hotkey.ss58Address);
  await chain.startCall(owner, netuid); // emission starts only after start_call, as on subtensor
  await chain.setHyperparameters(owner, netuid, {
    tempo: cfg.DEMO_TEMPO,
    weightsSetRateLimit: 2,
    commitRevealWeightsEnabled: cfg.DEMO_COMMIT_REVEAL === 'on',
    immunityPeriod: 5000,
  });
  const stakes = [1_000n, 600n];
  for (const [i, v] of people.filter((p) => p.role === 'validator').entries()) {
    await chain.burnedRegister(validatorColdkeys[i]!, netuid, v.hotkey.ss58Address);
    await chain.addStake(validatorColdkeys[i]!, v.hotkey.ss58Address, netuid, stakes[i]! * RAO_PER_TAO);
  }
  for (const m of people.filter((p) => p.role === 'miner')) await chain.burnedRegister(minerColdkey, netuid, m.hotkey.ss58Address);

  // --- miners and validators, real axons and dendrites on 127.0.0.1 ---
  const commodity = createPuzzleCommodity({ timeoutMs: 1500, minDifficulty: 8, maxDifficulty: 12, sampleSize: 8 });
  const miners: MinerHandle[] = [];
  for (const m of people.filter((p) => p.role === 'miner')) {
    miners.push(
      await startMiner({
        chain, netuid, hotkey: m.hotkey, commodity, logger: log,
        miner: puzzleMiner(m.behavior!, { slowMs: 700 }),
        axon: { host: '127.0.0.1', port: 0 },
      }),
    );
  }
  // the offline miner's axon is up but never answers (timeouts); stop nothing so the timeout path is exercised
  const validators: ValidatorHandle[] = [];
  for (const v of people.filter((p) => p.role === 'validator')) {
    validators.push(
      await startValidator({
        chain, netuid, hotkey: v.hotkey, commodity, statePath: join(stateDir, v.label.replace(' ', '-')),
        options: { alpha: 0.3, resyncEveryBlocks: 5, concurrency: 2, roundIntervalMs: 400, logger: log },
      }),
    );
  }

  // --- watch the chain ---
  const startBlock = (await chain.getBlock()).number;
  const firstEpochIndex = await chain.getEpochIndex(netuid);
  let latest: Metagraph = await chain.getMetagraph(netuid);
  let epochs = 0;
  const deadline = started + cfg.DEMO_MAX_SECONDS * 1000;
  const tableOf = (m: Metagraph) =>
    renderTable(
      people.map((p) => ({ p, uid: m.hotkeys.indexOf(p.hotkey.ss58Address) })),
      [
        { header: 'uid', value: (r) => r.uid },
        { header: 'who', value: (r) => `${r.p.label}${r.p.behavior && r.p.behavior !== 'honest' ? ` (${r.p.behavior})` : ''}`, align: 'left' },
        { header: 'stake τ', value: (r) => Number(formatTao(m.stake[r.uid] ?? 0n)).toFixed(2) },
        { header: 'incentive', value: (r) => u16Fraction(m.incentive[r.uid] ?? 0) },
        { header: 'dividends', value: (r) => u16Fraction(m.dividends[r.uid] ?? 0) },
        { header: 'emission τ', value: (r) => (Number(m.emission[r.uid] ?? 0n) / 1e9).toFixed(3) },
        { header: 'vtrust', value: (r) => u16Fraction(m.validatorTrust[r.uid] ?? 0) },
      ],
    );
  const draw = (m: Metagraph, block: number) => {
    const table = tableOf(m);
    const progress = `block ${block} · epoch ${epochs}/${cfg.DEMO_EPOCHS} · ${((Date.now() - started) / 1000).toFixed(1)} s · honest share of miner incentive ${(100 * honestShare(m, people)).toFixed(1)} %`;
    if (tty) process.stdout.write(`\x1b[H\x1b[2J${table}\n\n${progress}\n`);
    else return progress;
    return null;
  };

  await new Promise<void>((done) => {
    let busy = false;
    const unsubscribe = chain.subscribeBlocks((b) => {
      if (busy) return;
      busy = true;
      void (async () => {
        latest = await chain.getMetagraph(netuid);
        epochs = (await chain.getEpochIndex(netuid)) - firstEpochIndex;
        const line = draw(latest, b.number);
        // without a terminal, print a progress line every tempo instead of repainting
        if (line && (b.number - startBlock) % cfg.DEMO_TEMPO === 0) out(line);
        if (epochs >= cfg.DEMO_EPOCHS || Date.now() > deadline) {
          unsubscribe();
          done();
        }
        busy = false;
      })().catch((e: unknown) => {
        busy = false;
        out(`warning: ${(e as Error).message}`);
      });
    });
  });

  await Promise.all(validators.map((v) => v.stop()));
  await Promise.all(miners.map((m) => m.stop()));
  await chain.close();
  rmSync(stateDir, { recursive: true, force: true });

  // --- summary ---
  const wall = (Date.now() - started) / 1000;
  const share = honestShare(latest, people);
  out(`\n${'─'.repeat(72)}\nsummary after ${epochs} epochs (tempo ${cfg.DEMO_TEMPO}, ${cfg.DEMO_BLOCK_MS} ms blocks, commit-reveal ${cfg.DEMO_COMMIT_REVEAL}), wall time ${wall.toFixed(1)} s`);
  if (!tty) out(tableOf(latest));
  const minersByIncentive = people
    .filter((p) => p.role === 'miner')
    .map((p) => ({ p, inc: latest.incentive[latest.hotkeys.indexOf(p.hotkey.ss58Address)] ?? 0 }))
    .sort((a, b) => b.inc - a.inc);
  for (const { p, inc } of minersByIncentive) out(`  ${p.label.padEnd(8)} ${(p.behavior ?? '').padEnd(8)} incentive ${u16Fraction(inc)}`);
  const ok = share >= 0.9 && epochs >= cfg.DEMO_EPOCHS;
  out(`honest miners hold ${(100 * share).toFixed(1)} % of miner incentive (target ≥ 90 %): ${ok ? 'PASS' : 'FAIL'}`);
  if (epochs < cfg.DEMO_EPOCHS) out(`only ${epochs} of ${cfg.DEMO_EPOCHS} epochs ran before the ${cfg.DEMO_MAX_SECONDS} s limit`);
  return ok ? 0 : 1;
}

function honestShare(m: Metagraph, people: Participant[]): number {
  let honest = 0;
  let total = 0;
  for (const p of people) {
    if (p.role !== 'miner') continue;
    const inc = m.incentive[m.hotkeys.indexOf(p.hotkey.ss58Address)] ?? 0;
    total += inc;
    if (p.behavior === 'honest') honest += inc;
  }
  return total === 0 ? 0 : honest / total;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UserError) process.stderr.write(`error: ${e.message}\n`);
    else process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
