/**
 * Load generator for the 'wire' bench, run as a separate process so the server under test keeps its core.
 * Pre-signs `count` SDK-style requests (signing is excluded from the timing; each request gets its own
 * dendrite uuid, so arrival order across connections cannot trip the per-endpoint nonce rule), then sends
 * them over a keep-alive undici Pool with `inflight` requests outstanding, and prints one JSON line.
 */
import { Pool } from 'undici';
import { z } from 'zod';
import { signHeaders } from '../../framework/btauth/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { signedRequest } from '../../test/axon/support.ts';
import { BenchEcho } from './wire.ts';

const Args = z.object({
  port: z.number().int().min(1).max(65535),
  path: z.string(),
  axonHotkey: z.string(),
  count: z.number().int().min(1),
  inflight: z.number().int().min(1),
  connections: z.number().int().min(1),
  /** `btauth`: btauth/1 requests (bound to axonHotkey, fresh nonces) instead of SDK v10 ones. */
  wire: z.enum(['synapse', 'btauth']).default('synapse'),
  /** v10 `timeout` of the pre-signed requests, s (their freshness window is 4 s + timeout). */
  timeout: z.number().positive().default(60),
});

async function main(): Promise<void> {
  const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
  await cryptoReady();
  const callers = ['//Bob', '//Charlie', '//Dave', '//Eve'].map((uri) => keypairFromUri(uri));
  const reqs = Array.from({ length: args.count }, (_, i) => {
    const request = { prompt: `prompt number ${i} with a few words of text`, seed: i };
    const caller = callers[i % callers.length]!;
    if (args.wire === 'synapse') return signedRequest(BenchEcho, request, caller, args.axonHotkey, { timeout: args.timeout });
    const body = JSON.stringify(request);
    return { headers: { ...signHeaders(caller, { target: args.path, body, receiver: args.axonHotkey }), 'content-type': 'application/json' }, body };
  });
  const pool = new Pool(`http://127.0.0.1:${args.port}`, { connections: args.connections, pipelining: 1 });
  const statuses: Record<string, number> = {};
  let next = 0;
  process.stdout.write('READY\n');
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: args.inflight }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++]!;
        const res = await pool.request({ path: args.path, method: 'POST', headers: r.headers, body: r.body });
        await res.body.dump();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      }
    }),
  );
  const ms = performance.now() - t0;
  await pool.close();
  process.stdout.write(`${JSON.stringify({ count: args.count, ms, statuses })}\n`);
}

await main();
