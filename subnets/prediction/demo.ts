/**
 * `npm run demo -- prediction`: the prediction subnet's adversarial market on one machine. A LocalChain
 * subnet, the seeded market simulator behind HTTP, DEMO_VALIDATORS (1) validators reading it through the JSON feed
 * adapter, and 15 miners (2 skilled forecasters, a market copier, a last-moment crowd copier, a constant
 * 0.5, a random forecaster, an 8-hotkey extreme-probability swarm, one that never answers). 13 events open
 * every 2 s, close 4 s later and resolve 3 s after that; after DEMO_SECONDS it prints each miner's ledger and chain
 * incentive, and exits 0 only if the issue's incentive rules hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { startHarness } from './src/harness.ts';
import { formatReport, readLedgers, reportRows, verdict } from './src/report.ts';

const env = z
  .object({
    DEMO_SECONDS: z.coerce.number().int().min(20).max(600).default(75),
    DEMO_VALIDATORS: z.coerce.number().int().min(1).max(2).default(1),
    DEMO_BLOCK_MS: z.coerce.number().int().min(50).max(2000).default(200),
    DEMO_SEED: z.string().regex(/^[a-z0-9]{1,16}$/).default('demo'),
  })
  .safeParse(process.env);
if (!env.success) {
  const i = env.error.issues[0]!;
  process.stderr.write(`error: invalid $${String(i.path[0])}: ${i.message}\n`);
  process.exit(2);
}
const cfg = env.data;
// 12 assets: 13 events (12 binary + 1 paths) open every 2 s, so the 300-event window fills within the demo
const DEMO_ASSETS = ['BTC', 'ETH', 'TAO', 'SOL', 'DOT', 'ADA', 'XRP', 'LTC', 'AVAX', 'LINK', 'ATOM', 'NEAR'];
const out = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  const started = Date.now();
  const stateDir = mkdtempSync(join(tmpdir(), 'subnetkit-prediction-'));
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const h = await startHarness({ seed: cfg.DEMO_SEED, stateDir, logger, blockMs: cfg.DEMO_BLOCK_MS, validators: cfg.DEMO_VALIDATORS, swarm: 8, sim: { assets: DEMO_ASSETS } });
  out(`prediction demo: ${h.people.length - 1 - cfg.DEMO_VALIDATORS} miners, ${cfg.DEMO_VALIDATORS} validator(s), market at ${h.simServer.url}/feed.json; running ${cfg.DEMO_SECONDS} s`);
  const end = started + cfg.DEMO_SECONDS * 1000;
  let lastPrint = 0;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    if (Date.now() - lastPrint >= 10_000) {
      lastPrint = Date.now();
      const mg = await h.chain.getMetagraph(h.netuid);
      const rows = reportRows(mg, h.people, await readLedgers(join(stateDir, 'validator-0')).catch(() => new Map()));
      const v = verdict(rows);
      const owner = (mg.incentive[0] ?? 0) / 65535;
      out(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s  block ${mg.block}  skilled ${(100 * v.skilledShare).toFixed(1)} % of miner incentive · burned to owner ${(100 * owner).toFixed(0)} % · qualified: ${rows.filter((r) => r.standing.qualified).map((r) => r.label).join(', ') || 'nobody yet'}`);
    }
  }
  const mg = await h.chain.getMetagraph(h.netuid);
  await h.stop();
  const rows = reportRows(mg, h.people, await readLedgers(join(stateDir, 'validator-0')));
  rmSync(stateDir, { recursive: true, force: true });
  const v = verdict(rows);
  out(`\nafter ${((Date.now() - started) / 1000).toFixed(1)} s (validator A's ledger; incentive from the chain at block ${mg.block})`);
  out(formatReport(rows));
  out(`crowd copier: ${h.copier?.stats.earlyReveals ?? 0} reveals obtained before a cutoff, ${h.copier?.stats.replayed ?? 0} commitments replayed, ${h.copier?.stats.replayOpened ?? 0} opened after the cutoff (rejected: the hash binds the hotkey), ${h.copier?.stats.fallback ?? 0} market fallbacks`);
  for (const l of v.lines) out(l);
  return v.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
