import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAxon, type Axon } from '../../framework/axon/index.ts';
import { nowNanos } from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { Echo, MemoryCallers, post, signedRequest } from './support.ts';

let axon: Axon;
let alice: Keypair; // the miner
let bob: Keypair; // registered validator
let charlie: Keypair; // not registered

beforeAll(async () => {
  await cryptoReady();
  alice = keypairFromUri('//Alice');
  bob = keypairFromUri('//Bob');
  charlie = keypairFromUri('//Charlie');
  const callers = new MemoryCallers().set(bob.ss58Address, { uid: 1, stake: 1_000n, validatorPermit: true });
  axon = createAxon({ keypair: alice, callers, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), rateLimit: false });
  axon.attach(Echo, (req, ctx) => ({ reply: `${req.text} from uid ${ctx.caller.uid}`, doubled: req.n * 2 }));
  await axon.start();
});
afterAll(() => axon.stop());

describe('axon success path', () => {
  it('answers a signed request with the full synapse and the SDK response headers', async () => {
    const res = await post(axon.port, 'Echo', signedRequest(Echo, { text: 'hi', n: 21 }, bob, alice.ss58Address));
    expect(res.status).toBe(200);
    const body = res.json as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'Echo', text: 'hi', n: 21, reply: 'hi from uid 1', doubled: 42 });
    expect(body.axon).toMatchObject({ status_code: 200, status_message: 'Success', hotkey: alice.ss58Address });
    expect(body.dendrite).toMatchObject({ hotkey: bob.ss58Address, ip: '127.0.0.1' });
    expect(res.headers.bt_header_axon_status_code).toBe('200');
    expect(res.headers.bt_header_axon_status_message).toBe('Success');
    expect(Number(res.headers.bt_header_axon_process_time)).toBeGreaterThan(0);
    expect(res.headers.bt_header_dendrite_hotkey).toBe(bob.ss58Address);
  });

  it('rejects a replayed nonce with 401', async () => {
    const r = signedRequest(Echo, { text: 'x', n: 1 }, bob, alice.ss58Address);
    expect((await post(axon.port, 'Echo', r)).status).toBe(200);
    const again = await post(axon.port, 'Echo', r);
    expect(again.status).toBe(401);
    expect(again.json).toEqual({ message: 'Not Verified with error: Nonce is too old, a newer one was last processed' });
  });

  it('rejects a stale first nonce with 401', async () => {
    const old = nowNanos() - 17_000_000_000n; // 17 s > 4 s + 12 s timeout
    const res = await post(axon.port, 'Echo', signedRequest(Echo, { text: 'x', n: 1 }, bob, alice.ss58Address, { nonce: old }));
    expect(res.status).toBe(401);
    expect((res.json as { message: string }).message).toMatch(/^Not Verified with error: Nonce is too old: acceptable delta is 16\.00 seconds/);
  });

  it('rejects an unregistered caller with 403', async () => {
    const res = await post(axon.port, 'Echo', signedRequest(Echo, { text: 'x', n: 1 }, charlie, alice.ss58Address));
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ message: 'Forbidden. Key is blacklisted: Unrecognized hotkey.' });
  });
});
