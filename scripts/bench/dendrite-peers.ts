/**
 * Child process for the dendrite bench: starts N peers on 127.0.0.1 that answer BenchSynapse after a fixed
 * sleep, prints `{"ports": [...]}` on one line, and exits when stdin closes. Separate process so the
 * miners' CPU (e.g. the axon's signature checks) is not charged to the dendrite's event loop.
 * Usage: node --import tsx scripts/bench/dendrite-peers.ts <http|axon> <count> <sleepMs>
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { BenchSynapse } from './dendrite-synapse.ts';
import { createAxon } from '../../framework/axon/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';

const [kind, countText, sleepText] = process.argv.slice(2);
const count = Number(countText);
const sleepMs = Number(sleepText);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const closers: Array<() => Promise<void>> = [];
const ports: number[] = [];

if (kind === 'http') {
  for (let i = 0; i < count; i++) {
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', async () => {
        await sleep(sleepMs);
        const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
        const text = JSON.stringify({ ...body, answer: 42 });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), bt_header_axon_status_code: '200' });
        res.end(text);
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ports.push((server.address() as AddressInfo).port);
    closers.push(() => new Promise((r) => server.close(() => r())));
  }
} else {
  await cryptoReady();
  const keypair = keypairFromUri('//Bob');
  const logger = pino({ level: 'silent' });
  for (let i = 0; i < count; i++) {
    const axon = createAxon({
      keypair, host: '127.0.0.1', port: 0, logger, metricsRegistry: new Registry(), rateLimit: false,
      callers: { lookup: () => ({ uid: 0, stake: 10n ** 12n, validatorPermit: true }) },
    });
    axon.attach(BenchSynapse, async () => {
      await sleep(sleepMs);
      return { answer: 42 };
    });
    await axon.start();
    ports.push(axon.port);
    closers.push(() => axon.stop());
  }
}

process.stdout.write(`${JSON.stringify({ ports })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await Promise.all(closers.map((c) => c()));
  process.exit(0);
});
