/**
 * `npm run demo -- storage`: the storage subnet under attack. A LocalChain, one validator-gateway, six
 * honest miners and eight cheating hotkeys (dropper, hash-only, fetch-on-challenge, three sybils of one
 * operator, proof replayer, ack-only) over 127.0.0.1; user objects put first, one honest miner churns
 * out, Yuma epochs pay incentive. Prints the incentive table, the intact-object count and the measured
 * catch-rate table. Exit 0 only if honest miners hold ≥ 90 % of miner incentive, every cheater earns
 * ≤ 10 % of the honest mean, every user object comes back intact and the catch rates match.
 * Knobs: STORAGE_DEMO_EPOCHS (8), STORAGE_DEMO_ROUNDS_PER_BLOCK (1; the demo produces a block per validator round), STORAGE_DEMO_MAX_SECONDS (100).
 */
import { z } from 'zod';
import { catchRateTable, formatCatchTable } from './src/catch-rate.ts';
import { formatHarness, runStorageHarness } from './src/harness.ts';

const env = z
  .object({
    STORAGE_DEMO_EPOCHS: z.coerce.number().int().min(3).max(100).default(8),
    STORAGE_DEMO_ROUNDS_PER_BLOCK: z.coerce.number().int().min(1).max(20).default(1),
    STORAGE_DEMO_MAX_SECONDS: z.coerce.number().int().min(20).max(3600).default(100),
  })
  .safeParse(process.env);
if (!env.success) {
  const i = env.error.issues[0]!;
  process.stderr.write(`error: invalid $${String(i.path[0])}: ${i.message}\n`);
  process.exit(2);
}
const out = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  const started = Date.now();
  out('storage subnet: 6 honest miners, then 8 cheating hotkeys; user objects put first; one honest miner churns out\n');
  const r = await runStorageHarness({ epochs: env.data!.STORAGE_DEMO_EPOCHS, roundsPerBlock: env.data!.STORAGE_DEMO_ROUNDS_PER_BLOCK, maxSeconds: env.data!.STORAGE_DEMO_MAX_SECONDS, onProgress: out });
  out(`\n${formatHarness(r)}`);
  const cheaters = r.rows.filter((x) => x.role !== 'honest');
  const worst = Math.max(...cheaters.map((x) => x.incentive / Math.max(r.honestMean, 1e-12)));
  out(`best cheater earns ${(100 * worst).toFixed(1)} % of the honest mean (target ≤ 10 %)`);

  out('\ncatch rate per challenge round, miner missing a fraction f of its chunks, c indices per challenge:');
  const cells = await catchRateTable([0.01, 0.1, 0.3, 0.5], [1, 4, 8, 16], 400);
  out(formatCatchTable(cells));
  const catchOk = cells.every((c) => c.sigmas < 4);
  const ok = r.honestShare >= 0.9 && worst <= 0.1 && r.intact === r.userObjects && catchOk;
  out(`\n${ok ? 'PASS' : 'FAIL'}: honest ${(100 * r.honestShare).toFixed(1)} % · worst cheater ${(100 * worst).toFixed(1)} % of honest mean · objects ${r.intact}/${r.userObjects} intact · catch rates within 4 σ: ${catchOk} · ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
