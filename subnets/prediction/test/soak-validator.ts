/**
 * A prediction validator as its own process, for the restart soak (test/restart-soak.test.ts): it
 * connects to a served localnet, reads the market through the JSON feed adapter, keeps its pending
 * tasks in SQLite under the state directory, and appends one JSON line per scored reveal task to
 * `--score-log` (synchronously, before the runtime persists, so a SIGKILL can at most repeat a line).
 * Prints `ready` once started; SIGTERM stops it cleanly. Arguments are checked with zod.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { destination, pino } from 'pino';
import { z } from 'zod';
import { LocalnetClient } from '../../../framework/chain/localnet-client.ts';
import { openSqlitePendingStore, RetryLater } from '../../../framework/commodity/index.ts';
import { startValidator } from '../../../framework/validator/index.ts';
import { cryptoReady, keypairFromUri } from '../../../framework/wallet/index.ts';
import { createPredictionCommodity, type PredictionCommodity } from '../src/commodity.ts';
import { JsonFeedSource } from '../src/feed.ts';

const args = z
  .object({ chain: z.string().url(), feed: z.string().url(), seed: z.string().regex(/^[a-z0-9]{1,16}$/), netuid: z.coerce.number().int().min(0), state: z.string().min(1), scoreLog: z.string().min(1) })
  .safeParse(Object.fromEntries(process.argv.slice(2).map((a) => /^--([a-z-]+)=(.*)$/.exec(a)).filter((m) => m !== null).map((m) => [m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), m[2]])));
if (!args.success) {
  process.stderr.write(`soak-validator: ${args.error.issues[0]!.path.join('.')}: ${args.error.issues[0]!.message}\n`);
  process.exit(2);
}
const a = args.data;

await cryptoReady();
mkdirSync(a.state, { recursive: true });
const chain = await LocalnetClient.connect(a.chain);
const signer = keypairFromUri(`//${a.seed}/validator/0`);
const source = new JsonFeedSource({ location: a.feed, refreshMs: 500 });
// a window larger than the soak: every scored (miner, event) stays visible to the test
const base: PredictionCommodity = createPredictionCommodity({ source, signer, burnUid: 0, retryMs: 1000, settleMs: 700, ledger: { windowEvents: 100_000 } });
// the commodity is frozen: wrap its scorer in a copy, logging each reveal task that was scored
const commodity: PredictionCommodity = {
  ...base,
  score: async (input) => {
    const out = await base.score(input);
    if (input.task.data.phase === 'reveal' && !(out instanceof RetryLater)) {
      appendFileSync(a.scoreLog, `${JSON.stringify({ pid: process.pid, task: input.task.id, expected: input.task.data.expected })}\n`);
    }
    return out;
  },
};
const logger = pino({ level: 'warn' }, destination(2));
const v = await startValidator({
  chain, netuid: a.netuid, hotkey: signer, commodity, statePath: a.state,
  options: { resyncEveryBlocks: 5, roundIntervalMs: 500, concurrency: 3, logger, pendingStore: await openSqlitePendingStore(join(a.state, 'pending.sqlite')) },
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void v.stop().then(async () => {
    await chain.close();
    process.exit(0);
  });
});
