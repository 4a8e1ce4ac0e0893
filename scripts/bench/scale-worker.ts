/** One worker process of the `scale` bench: a split-validator worker on the bench's localnet and Redis. */
import { pino } from 'pino';
import { LocalnetClient } from '../../framework/chain/index.ts';
import type { Commodity } from '../../framework/commodity/index.ts';
import { startScaleWorker } from '../../framework/scale/index.ts';
import { keypairFromUri, cryptoReady } from '../../framework/wallet/keypair.ts';

const [chainUrl, redisUrl, netuid] = [process.env.BENCH_CHAIN!, process.env.BENCH_REDIS!, Number(process.env.BENCH_NETUID)];
await cryptoReady();
const commodity = (await import('../../test/scale/fixtures/hash-commodity.ts')).default as Commodity;
const chain = await LocalnetClient.connect(chainUrl, { timeoutMs: 10_000 });
const h = await startScaleWorker({ chain, netuid, hotkey: keypairFromUri('//Alice//bench-validator'), commodity, redisUrl, logger: pino({ level: 'warn' }) });
process.stdout.write('ready\n');
process.once('SIGTERM', () => void h.stop().then(() => chain.close()).finally(() => process.exit(0)));
