import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sr25519Verify } from '@polkadot/wasm-crypto';
import { z } from 'zod';
import { BtauthVerifier, buildPayload, bodySha256 } from '../../framework/btauth/index.ts';
import { Dendrite, type AxonTarget } from '../../framework/dendrite/index.ts';
import { defineSynapse } from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, sign, type Keypair } from '../../framework/wallet/keypair.ts';
import { closedPort, sendJson, startServer, type TestServer } from './servers.ts';

// The all-at-once btauth/1 fan-out (a validator's round) runs on its own request path (undici dispatch,
// one deadline timer): the same outcomes as a single call, and every request signed for itself.

const Echo = defineSynapse({
  name: 'EchoSynapse',
  request: z.object({ prompt: z.string(), seed: z.number().int() }),
  response: z.object({ completion: z.string() }),
});

let alice: Keypair;
let bob: Keypair;
const servers: TestServer[] = [];

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

beforeAll(async () => {
  await cryptoReady();
  alice = keypairFromUri('//Alice');
  bob = keypairFromUri('//Bob');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A btauth/1 miner: verifies every request (receiver = bob) and answers `completion`. */
async function verifyingMiner(): Promise<{ server: TestServer; rejected: string[] }> {
  const verifier = new BtauthVerifier({ hotkey: bob.ss58Address });
  const rejected: string[] = [];
  const s = await server(async (req, res) => {
    try {
      await verifier.verify({ method: req.method, target: req.url, headers: req.headers, body: Buffer.from(req.body) });
    } catch (e) {
      rejected.push((e as Error).message);
      return sendJson(res, 401, { message: (e as Error).message });
    }
    const body = JSON.parse(req.body) as { prompt: string };
    sendJson(res, 200, { completion: body.prompt.toUpperCase() });
  });
  return { server: s, rejected };
}

describe('btauth/1 forward (all targets at once)', () => {
  it('mixed failures over 40 targets: the codes of a single call, results in target order', async () => {
    const miners = await Promise.all(Array.from({ length: 3 }, () => verifyingMiner()));
    const hang = await server(() => { /* never answers */ });
    const garbage = await server((_req, res) => { res.writeHead(200); res.end('<html>'); });
    const wrongShape = await server((_req, res) => sendJson(res, 200, { completion: 5 }));
    const forbidden = await server((_req, res) => sendJson(res, 403, { message: 'Forbidden. Key is blacklisted: x.' }));
    const declaredBig = await server((_req, res) => sendJson(res, 200, { completion: 'y'.repeat(5000) }));
    const chunkedBig = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 8; i++) res.write('z'.repeat(1000));
      res.end();
    });
    const reset = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"completion": "ab');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const refused = await closedPort();
    const kinds: Array<{ t: Omit<AxonTarget, 'hotkey'>; codes: number[]; message?: RegExp }> = [
      ...miners.map((m) => ({ t: { ip: '127.0.0.1', port: m.server.port }, codes: [200] })),
      { t: { ip: '127.0.0.1', port: hang.port }, codes: [408], message: /timeout/i },
      { t: { ip: '127.0.0.1', port: garbage.port }, codes: [422], message: /not JSON/ },
      { t: { ip: '127.0.0.1', port: wrongShape.port }, codes: [422], message: /EchoSynapse schema: completion/ },
      { t: { ip: '127.0.0.1', port: forbidden.port }, codes: [403], message: /^Forbidden\. Key is blacklisted/ },
      { t: { ip: '127.0.0.1', port: declaredBig.port }, codes: [422], message: /exceeds 4096 bytes/ },
      { t: { ip: '127.0.0.1', port: chunkedBig.port }, codes: [422], message: /exceeds 4096 bytes/ },
      { t: { ip: '127.0.0.1', port: reset.port }, codes: [400, 503] },
      { t: { ip: '127.0.0.1', port: refused }, codes: [503] },
      { t: { ip: 'not an address!', port: 80 }, codes: [503] }, // a malicious chain entry: no request at all
    ];
    // at most 4 per origin (the default keeps 8 connections each): the whole fan-out leaves at once
    const targets = Array.from({ length: 40 }, (_, i) => ({ ...kinds[i % kinds.length]!.t, hotkey: bob.ss58Address }));
    const d = new Dendrite({ keypair: alice, maxResponseBytes: 4096 });
    try {
      const t0 = performance.now();
      const results = await d.forward(targets, Echo, (_t, i) => ({ prompt: `p${i}`, seed: i }), { timeoutMs: 1500 });
      const elapsed = performance.now() - t0;
      expect(results).toHaveLength(40);
      results.forEach((r, i) => {
        const kind = kinds[i % kinds.length]!;
        expect(r.target, `target ${i}`).toBe(targets[i]);
        expect(kind.codes, `target ${i}: ${r.statusCode} ${r.statusMessage}`).toContain(r.statusCode);
        if (kind.message) expect(r.statusMessage, `target ${i}`).toMatch(kind.message);
        expect(r.ok).toBe(r.statusCode === 200);
        if (r.ok) expect(r.response).toEqual({ completion: `P${i}` });
      });
      const hung = results.filter((_r, i) => i % kinds.length === miners.length);
      for (const r of hung) expect(r.roundTripMs).toBeGreaterThanOrEqual(1400);
      expect(elapsed).toBeLessThan(1500 + 1500);
      for (const m of miners) expect(m.rejected).toEqual([]);
      expect(miners.reduce((n, m) => n + m.server.captured.length, 0)).toBe(12);
      // the dendrite is reusable after a fan-out with timeouts and resets (connection slots were given back)
      const again = await d.forward(miners.map((m) => ({ ip: '127.0.0.1', port: m.server.port, hotkey: bob.ss58Address })), Echo, { prompt: 'x', seed: 1 });
      expect(again.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    } finally {
      await d.close();
    }
  });

  it('each request of a worker-signed fan-out has its own nonce and receiver, and verifies', async () => {
    const carol = keypairFromUri('//Carol');
    const s = await Promise.all(Array.from({ length: 32 }, () => server((req, res) => sendJson(res, 200, { completion: req.body.length.toString() }))));
    // alternate receivers: each signature must be bound to its own target's hotkey
    const targets = s.map((x, i) => ({ ip: '127.0.0.1', port: x.port, hotkey: (i % 2 ? carol : bob).ss58Address }));
    const d = new Dendrite({ keypair: alice, workerSigning: true });
    try {
      const results = await d.forward(targets, Echo, { prompt: 'same request', seed: 3 });
      expect(results.every((r) => r.ok)).toBe(true);
      const nonces = new Set<string>();
      s.forEach((x, i) => {
        expect(x.captured).toHaveLength(1);
        const req = x.captured[0]!;
        const h = req.headers as Record<string, string>;
        expect(h['x-bittensor-receiver']).toBe(targets[i]!.hotkey);
        expect(h['x-bittensor-crypto']).toBeUndefined(); // sr25519 goes without the header
        nonces.add(h['x-bittensor-nonce']!);
        const payload = buildPayload({ scheme: 'sr25519', method: 'POST', target: '/EchoSynapse', bodySha256: bodySha256(req.body), nonce: h['x-bittensor-nonce']!, hotkey: alice.ss58Address, receiver: targets[i]!.hotkey });
        const sig = Buffer.from(h['x-bittensor-signature']!.replace(/^0x/, ''), 'hex');
        expect(sr25519Verify(sig, new TextEncoder().encode(payload), alice.publicKey), `target ${i}`).toBe(true);
      });
      expect(nonces.size).toBe(32);
    } finally {
      await d.close();
    }
  });
});

describe('sr25519 signatures (schnorrkel-wasm)', () => {
  it('verify under @polkadot/wasm-crypto (what the axon verifies with), are randomised, and fail when tampered or under another key', () => {
    const msg = new TextEncoder().encode('btauth/1\nsr25519\nPOST\n/x\n' + bodySha256('{}') + '\n1\n' + alice.ss58Address + '\n-');
    const a = sign(alice, msg);
    const b = sign(alice, msg);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    for (const s of [a, b]) {
      expect(sr25519Verify(s, msg, alice.publicKey)).toBe(true);
      expect(sr25519Verify(s, msg, bob.publicKey)).toBe(false);
      const tampered = msg.slice();
      tampered[tampered.length - 1] ^= 1;
      expect(sr25519Verify(s, tampered, alice.publicKey)).toBe(false);
    }
  });
});
