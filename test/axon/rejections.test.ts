import { Readable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAxon, type Axon } from '../../framework/axon/index.ts';
import { nowNanos } from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { Echo, MemoryCallers, post, signedRequest } from './support.ts';

let axon: Axon;
let alice: Keypair;
let bob: Keypair;
let charlie: Keypair;
let dave: Keypair; // registered, no permit, small stake

const silent = pino({ level: 'silent' });

beforeAll(async () => {
  await cryptoReady();
  [alice, bob, charlie, dave] = ['//Alice', '//Bob', '//Charlie', '//Dave'].map((uri) => keypairFromUri(uri)) as [Keypair, Keypair, Keypair, Keypair];
  const callers = new MemoryCallers()
    .set(bob.ss58Address, { uid: 1, stake: 1_000n, validatorPermit: true })
    .set(dave.ss58Address, { uid: 2, stake: 5n, validatorPermit: false });
  axon = createAxon({ keypair: alice, callers, host: '127.0.0.1', port: 0, logger: silent, rateLimit: false, bodyLimitBytes: 4096, metricsAllow: ['127.0.0.1'] });
  axon.attach(Echo, (req) => {
    if (req.text === 'throw') throw new Error('handler bug');
    if (req.text === 'bad-response') return { reply: 'x', doubled: 1.5 };
    return { reply: req.text, doubled: req.n * 2 };
  });
  await axon.start();
});
afterAll(() => axon.stop());

const echo = (caller: Keypair, opts: Parameters<typeof signedRequest>[4] = {}, text = 'hello') =>
  post(axon.port, 'Echo', signedRequest(Echo, { text, n: 1 }, caller, alice.ss58Address, opts));
const message = (r: { json: unknown }) => (r.json as { message: string }).message;

describe('verification failures are 401 with the SDK message', () => {
  it('bad signature (signed by another key)', async () => {
    const r = await echo(bob, { signAs: charlie });
    expect(r.status).toBe(401);
    expect(message(r)).toMatch(/^Not Verified with error: Signature mismatch with \d+\.5\w+\.5\w+\.[0-9a-f-]+\.[0-9a-f]{64} and 0x[0-9a-f]{128}$/);
    expect(r.headers.bt_header_axon_status_code).toBe('401');
  });

  it('garbage signature', async () => {
    expect((await echo(bob, { signature: `0x${'ab'.repeat(64)}` })).status).toBe(401);
    expect((await echo(bob, { signature: 'not-hex' })).status).toBe(401);
  });

  it('empty and missing signatures (the SDK lets these through, issue #3392)', async () => {
    const empty = await echo(bob, { signature: '' });
    expect(empty.status).toBe(401);
    expect(message(empty)).toBe('Not Verified with error: Missing signature');
    const missing = await echo(bob, { signature: null });
    expect(missing.status).toBe(401);
  });

  it('nonce too far in the future', async () => {
    const r = await echo(bob, { nonce: nowNanos() + 60_000_000_000n });
    expect(r.status).toBe(401);
    expect(message(r)).toMatch(/too far in the future/);
  });

  it('request addressed to another axon hotkey', async () => {
    const r = await post(axon.port, 'Echo', signedRequest(Echo, { text: 'x', n: 1 }, bob, charlie.ss58Address));
    expect(r.status).toBe(401);
    expect(message(r)).toContain(`addressed to hotkey ${charlie.ss58Address}`);
  });

  it('tampered body (hash no longer matches the signed header hash)', async () => {
    const req = signedRequest(Echo, { text: 'pay 1', n: 1 }, bob, alice.ss58Address);
    const r = await post(axon.port, 'Echo', { ...req, body: req.body.replace('pay 1', 'pay 9') });
    expect(r.status).toBe(401);
    expect(message(r)).toMatch(/^Not Verified with error: Hash mismatch between header body hash [0-9a-f]{64} and parsed body hash [0-9a-f]{64}$/);
  });

  it('a tampered header hash breaks the signature', async () => {
    const req = signedRequest(Echo, { text: 'x', n: 1 }, bob, alice.ss58Address);
    const r = await post(axon.port, 'Echo', { ...req, headers: { ...req.headers, computed_body_hash: 'a'.repeat(64) } });
    expect(r.status).toBe(401);
    expect(message(r)).toMatch(/Signature mismatch/);
  });

  it('malformed headers are 400, missing nonce 401', async () => {
    const req = signedRequest(Echo, { text: 'x', n: 1 }, bob, alice.ss58Address);
    const bad = await post(axon.port, 'Echo', { ...req, headers: { ...req.headers, bt_header_dendrite_nonce: 'abc' } });
    expect(bad.status).toBe(400);
    const { bt_header_dendrite_nonce: _n, ...noNonce } = req.headers;
    const missing = await post(axon.port, 'Echo', { ...req, headers: noNonce });
    expect(missing.status).toBe(401);
    expect(message(missing)).toBe('Not Verified with error: Missing Nonce');
  });
});

describe('other rejections', () => {
  it('unregistered caller: 403', async () => {
    const r = await echo(charlie);
    expect(r.status).toBe(403);
    expect(message(r)).toBe('Forbidden. Key is blacklisted: Unrecognized hotkey.');
  });

  it('oversize body: 413 before the handler runs', async () => {
    const r = await echo(bob, {}, 'x'.repeat(8000));
    expect(r.status).toBe(413);
    expect(message(r)).toMatch(/exceeds 4096 bytes/);
  });

  it('oversize body sent chunked (no content-length): 413 once the limit is passed, connection closed', async () => {
    const r = signedRequest(Echo, { text: 'x'.repeat(8000), n: 1 }, bob, alice.ss58Address);
    const res = await request(`http://127.0.0.1:${axon.port}/Echo`, {
      method: 'POST',
      headers: r.headers,
      body: Readable.from([r.body.slice(0, 3000), r.body.slice(3000)]),
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(((await res.body.json()) as { message: string }).message).toMatch(/exceeds 4096 bytes/);
  });

  it('a body that arrives in pieces, after the headers, is read whole', async () => {
    const r = signedRequest(Echo, { text: 'slow body', n: 4 }, bob, alice.ss58Address);
    async function* pieces() {
      for (let i = 0; i < r.body.length; i += 40) {
        await new Promise((ok) => setTimeout(ok, 5));
        yield r.body.slice(i, i + 40);
      }
    }
    const res = await request(`http://127.0.0.1:${axon.port}/Echo`, { method: 'POST', headers: r.headers, body: Readable.from(pieces()) });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ reply: 'slow body', doubled: 8 });
  });

  it('unknown route: 404 with the available synapses', async () => {
    const r = await post(axon.port, 'Nope', signedRequest(Echo, { text: 'x', n: 1 }, bob, alice.ss58Address));
    expect(r.status).toBe(404);
    expect(message(r)).toBe("Synapse name 'Nope' not found. Available synapses ['Synapse', 'Echo']");
    const deep = await request(`http://127.0.0.1:${axon.port}/a/b`);
    expect(deep.statusCode).toBe(404);
    await deep.body.dump();
  });

  it('invalid request fields and invalid JSON: 400 (schema is checked before the body hash)', async () => {
    const req = signedRequest(Echo, { text: 'x', n: 1 }, bob, alice.ss58Address);
    const r = await post(axon.port, 'Echo', { ...req, body: req.body.replace('"text": "x"', '"text": 5') });
    expect(r.status).toBe(400);
    expect(message(r)).toMatch(/^invalid Echo request: text: /);
    const req2 = signedRequest(Echo, { text: 'x', n: 1 }, bob, alice.ss58Address);
    const garbage = await post(axon.port, 'Echo', { ...req2, body: '{not json' });
    expect(garbage.status).toBe(400);
    expect(message(garbage)).toMatch(/not valid JSON/);
  });

  it('a throwing handler is a 500 with an error id, and the axon keeps serving', async () => {
    const r = await echo(bob, {}, 'throw');
    expect(r.status).toBe(500);
    expect(message(r)).toMatch(/^Internal Server Error #[0-9a-f-]{36}$/);
    const bad = await echo(bob, {}, 'bad-response');
    expect(bad.status).toBe(500);
    expect((await echo(bob)).status).toBe(200);
  });

  it('the built-in /Synapse ping route answers signed requests', async () => {
    const { PingSynapse } = await import('../../framework/axon/index.ts');
    const r = await post(axon.port, 'Synapse', signedRequest(PingSynapse, {}, bob, alice.ss58Address));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'Synapse', axon: { status_code: 200 } });
  });
});

describe('blacklist policy', () => {
  async function withAxon(opts: Partial<Parameters<typeof createAxon>[0]>, fn: (port: number) => Promise<void>, attach?: (a: Axon) => void) {
    const callers = new MemoryCallers()
      .set(bob.ss58Address, { uid: 1, stake: 1_000n, validatorPermit: true })
      .set(dave.ss58Address, { uid: 2, stake: 5n, validatorPermit: false });
    const a = createAxon({ keypair: alice, callers, host: '127.0.0.1', port: 0, logger: silent, rateLimit: false, ...opts });
    if (attach) attach(a);
    else a.attach(Echo, (req) => ({ reply: req.text, doubled: 0 }));
    await a.start();
    try {
      await fn(a.port);
    } finally {
      await a.stop();
    }
  }
  const call = (port: number, caller: Keypair) => post(port, 'Echo', signedRequest(Echo, { text: 'x', n: 1 }, caller, alice.ss58Address));

  it('requireValidatorPermit, minStake, allowList, allowUnregistered', async () => {
    await withAxon({ blacklist: { requireValidatorPermit: true } }, async (port) => {
      expect((await call(port, bob)).status).toBe(200);
      const r = await call(port, dave);
      expect(r.status).toBe(403);
      expect(message(r)).toBe('Forbidden. Key is blacklisted: Hotkey has no validator permit.');
    });
    await withAxon({ blacklist: { minStake: 100n, allowList: [charlie.ss58Address] } }, async (port) => {
      expect((await call(port, bob)).status).toBe(200);
      expect((await call(port, dave)).status).toBe(403);
      expect((await call(port, charlie)).status).toBe(200);
    });
    await withAxon({ blacklist: { allowUnregistered: true } }, async (port) => {
      expect((await call(port, charlie)).status).toBe(200);
    });
  });

  it('a per-synapse blacklist replaces the axon-wide policy', async () => {
    await withAxon(
      {},
      async (port) => {
        expect((await call(port, charlie)).status).toBe(200);
        const r = await call(port, bob);
        expect(r.status).toBe(403);
        expect(message(r)).toBe('Forbidden. Key is blacklisted: no validators today.');
      },
      (a) => a.attach(Echo, (req) => ({ reply: req.text, doubled: 0 }), { blacklist: async (ctx) => (ctx.caller.validatorPermit ? 'no validators today' : null) }),
    );
  });

  it('a blacklist or handler that throws, rejects or hangs gets an answer; the axon keeps serving', async () => {
    await withAxon(
      { maxTimeoutMs: 60_000 },
      async (port) => {
        const ask = (text: string) => post(port, 'Echo', signedRequest(Echo, { text, n: 1 }, bob, alice.ss58Address, { timeout: 1 }));
        const rejected = await call(port, dave);
        expect(rejected.status).toBe(500);
        expect(message(rejected)).toMatch(/^Internal Server Error #[0-9a-f-]{36}$/);
        expect((await call(port, charlie)).status).toBe(500);
        expect((await ask('async-throw')).status).toBe(500);
        const hung = await ask('hang');
        expect(hung.status).toBe(408);
        expect(message(hung)).toBe('Response timeout after: 1.0s');
        expect((await ask('fine')).status).toBe(200);
      },
      (a) =>
        a.attach(
          Echo,
          async (req, ctx) => {
            if (req.text === 'async-throw') throw new Error('handler bug');
            if (req.text === 'hang') await new Promise((ok) => ctx.signal.addEventListener('abort', ok));
            return { reply: req.text, doubled: 0 };
          },
          {
            blacklist: (ctx) => {
              if (ctx.caller.hotkey === dave.ss58Address) return Promise.reject(new Error('blacklist service down'));
              if (ctx.caller.hotkey === charlie.ss58Address) throw new Error('blacklist bug');
              return null;
            },
          },
        ),
    );
  });

  it('rate limit per hotkey: 429 with retry-after, other hotkeys unaffected', async () => {
    await withAxon({ rateLimit: { perSecond: 1, burst: 2 }, blacklist: { allowUnregistered: true } }, async (port) => {
      expect((await call(port, bob)).status).toBe(200);
      expect((await call(port, bob)).status).toBe(200);
      const limited = await call(port, bob);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await call(port, charlie)).status).toBe(200);
    });
  });
});

describe('operations', () => {
  it('/healthz and /metrics report requests by status and caller class and verification failures', async () => {
    const h = await request(`http://127.0.0.1:${axon.port}/healthz`);
    expect(h.statusCode).toBe(200);
    expect(await h.body.json()).toMatchObject({ status: 'ok', hotkey: alice.ss58Address });
    const m = await request(`http://127.0.0.1:${axon.port}/metrics`);
    const text = await m.body.text();
    expect(m.statusCode).toBe(200);
    expect(text).toMatch(/axon_requests_total\{route="Echo",status="200",caller_class="validator",protocol="synapse"\} [1-9]/);
    expect(text).toMatch(/axon_requests_total\{route="Echo",status="403",caller_class="unknown",protocol="synapse"\} [1-9]/);
    expect(text).toMatch(/axon_verification_failures_total\{reason="bad_signature"\} [1-9]/);
    expect(text).toMatch(/axon_verification_failures_total\{reason="body_hash"\} 1/);
    expect(text).toMatch(/axon_request_duration_seconds_bucket\{le="[0-9.]+",route="Echo",status="200",caller_class="validator"\}/);
    expect(text).toContain('axon_queue_depth');
  });

  it('info() advertises the external ip/port, separate from the bind address', async () => {
    const a = createAxon({ keypair: alice, callers: new MemoryCallers(), host: '127.0.0.1', port: 0, externalIp: '203.0.113.7', externalPort: 9000, logger: silent });
    expect(a.info()).toEqual({ version: 10002000, ip: '203.0.113.7', port: 9000, ipType: 4, protocol: 4 });
    const b = createAxon({ keypair: alice, callers: new MemoryCallers(), externalIp: '2001:db8::1', logger: silent });
    expect(b.info()).toMatchObject({ ip: '2001:db8::1', port: 8091, ipType: 6 });
  });

  it('bad options and a busy port are one-line user errors', async () => {
    expect(() => createAxon({ keypair: alice, callers: new MemoryCallers(), port: 70000, logger: silent })).toThrow(/invalid axon options: port/);
    expect(() => createAxon({ keypair: alice, callers: new MemoryCallers(), externalIp: 'example.com', logger: silent })).toThrow(/externalIp/);
    const busy = createAxon({ keypair: alice, callers: new MemoryCallers(), host: '127.0.0.1', port: axon.port, logger: silent });
    await expect(busy.start()).rejects.toThrow(/already in use/);
  });
});
