/**
 * `npm run demo -- text-inference`: the adversarial harness as a show. One validator verifies streamed
 * answers from honest miners and from one miner per cheat; prints each miner's share of the miner incentive
 * (the LocalChain's Yuma output) and exits 0 only if the issue's conditions hold.
 * Env: DEMO_EPOCHS (epochs after the first weights, default 3), DEMO_MAX_SECONDS (default 110), LOG_LEVEL.
 */
import { pino } from 'pino';
import { z } from 'zod';
import { formatRows, judge, runHarness } from './src/harness.ts';

const env = z
  .object({
    DEMO_EPOCHS: z.coerce.number().int().min(1).max(50).default(3),
    DEMO_MAX_SECONDS: z.coerce.number().int().min(20).max(3600).default(110),
  })
  .safeParse(process.env);
if (!env.success) {
  const i = env.error.issues[0]!;
  process.stderr.write(`error: invalid $${String(i.path[0])}: ${i.message}\n`);
  process.exit(2);
}
const out = (s: string) => process.stdout.write(`${s}\n`);
out('text-inference: 1 validator, 4 honest miners (one slow), 6 cheaters; building the model and warming the workers…');
let lastEpoch = -1;
const result = await runHarness({
  epochs: env.data.DEMO_EPOCHS,
  maxSeconds: env.data.DEMO_MAX_SECONDS,
  logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
  onBlock: (v) => {
    if (v.epochs === lastEpoch) return;
    lastEpoch = v.epochs;
    const honest = v.rows.filter((r) => r.behavior === 'honest' || r.behavior === 'slow').reduce((a, r) => a + r.share, 0);
    out(`block ${v.block} · epoch ${v.epochs} · ${v.seconds.toFixed(1)} s · honest share ${(100 * honest).toFixed(1)} %`);
  },
}).catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
out(`\n${formatRows(result.rows)}\n`);
const problems = judge(result);
out(`after ${result.epochs} epochs, ${result.seconds.toFixed(1)} s: honest miners hold ${(100 * result.honestShare).toFixed(1)} % of miner incentive (target ≥ 90 %)`);
for (const p of problems) out(`FAIL: ${p}`);
out(problems.length === 0 ? 'PASS: honest ≥ 90 %, every cheater ≤ 10 % of the average honest miner, slow honest between' : '');
process.exit(problems.length === 0 ? 0 : 1);
