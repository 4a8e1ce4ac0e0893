import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { newUuid, nowNanos, signRequest } from '../../framework/protocol/index.ts';
import { Echo, signedRequest } from './support.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/axon-process.ts', import.meta.url));
const URIS = ['//Bob', '//Charlie', '//Dave', '//Eve'];
const MiB = 1024 * 1024;
let child: ChildProcess;
let port = 0;

const rssMiB = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await cryptoReady();
  child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE, JSON.stringify({ callers: URIS })], { stdio: ['ignore', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`axon process exited ${c}`)));
    setTimeout(() => reject(new Error('axon process did not start')), 30_000);
  });
}, 40_000);
afterAll(() => {
  child?.kill('SIGKILL');
});

describe('body bytes in flight are bounded before admission (issue 9 #12)', () => {
  it('16 concurrent 9.5 MiB bodies from 4 registered keys: the excess refused unread, memory returns after the burst', async () => {
    const text = 'x'.repeat(Math.floor(9.5 * MiB));
    const axonHotkey = keypairFromUri('//Alice').ss58Address;
    // hashing a 9.5 MiB body is slow: one per key, then each request gets its own nonce, uuid and signature
    const perKey = URIS.map((uri) => ({ key: keypairFromUri(uri), req: signedRequest(Echo, { text, n: 1 }, keypairFromUri(uri), axonHotkey, { timeout: 30 }) }));
    const bodies = Array.from({ length: 16 }, (_, i) => {
      const { key, req } = perKey[i % 4] as (typeof perKey)[number];
      const nonce = nowNanos();
      const uuid = newUuid();
      const signature = signRequest(key, { nonce, dendriteHotkey: key.ss58Address, axonHotkey, uuid, bodyHash: req.headers.computed_body_hash as string });
      return { headers: { ...req.headers, bt_header_dendrite_nonce: String(nonce), bt_header_dendrite_uuid: uuid, bt_header_dendrite_signature: signature }, body: req.body };
    });
    await sleep(1_000);
    const before = rssMiB();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 20);
    const statuses: Record<string, number> = {};
    await Promise.all(
      bodies.map(async (b) => {
        try {
          const r = await request(`http://127.0.0.1:${port}/Echo`, { method: 'POST', headers: b.headers, body: b.body });
          await r.body.dump();
          statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
        } catch (e) {
          // a refused body that was still being sent when the axon closed the connection
          const k = `reset (${(e as { code?: string }).code ?? 'error'})`;
          statuses[k] = (statuses[k] ?? 0) + 1;
        }
      }),
    );
    clearInterval(sampler);
    // gc runs every 250 ms in the child, but the allocator hands pages back at its own pace (slower under load):
    // wait for RSS to settle below the bound, up to 15 s, rather than sampling once after a fixed delay
    const t0 = Date.now();
    let after = rssMiB();
    while (after - before >= 60 && Date.now() - t0 < 15_000) {
      await sleep(250);
      after = rssMiB();
    }
    const settledS = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(
      `16 × 9.5 MiB bodies (limits: 64 MiB in total, 20 MiB per caller): statuses ${JSON.stringify(statuses)}; axon RSS before ${before.toFixed(0)} MiB, ` +
        `peak ${peak.toFixed(0)} MiB (+${(peak - before).toFixed(0)}), ${settledS} s after ${after.toFixed(0)} MiB (+${(after - before).toFixed(0)})`,
    );
    expect(statuses['200'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(statuses['503'] ?? 0).toBeGreaterThanOrEqual(1); // at most 6 (64 MiB / 9.5 MiB) in flight at once: the rest refused unread
    // every body that got in was counted; the bound holds. An admitted 9.5 MiB body costs about 30 MiB of RSS (buffer, string,
    // parsed object, reply), so all 16 admitted would be ~480 MiB; with the budget we measured +139…+190 MiB on a quiet machine.
    // 300 (under 16 bodies' raw bytes twice over) keeps the two far apart without tripping on allocator noise under load.
    expect(peak - before).toBeLessThan(300);
    expect(after - before).toBeLessThan(60);
    // and the axon still answers
    const ok = await request(`http://127.0.0.1:${port}/Echo`, { method: 'POST', ...signedRequest(Echo, { text: 'small', n: 1 }, keypairFromUri('//Bob'), keypairFromUri('//Alice').ss58Address) });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  }, 60_000);
});
