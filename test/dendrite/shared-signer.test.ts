import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { createAxon, type Axon } from '../../framework/axon/index.ts';
import { Dendrite, type AxonTarget } from '../../framework/dendrite/index.ts';
import { WorkerSigner, sharedSigner } from '../../framework/dendrite/worker-signer.ts';
import { defineSynapse, parseHeaders, verifyRequestSignature } from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { runProcess } from '../support/process.ts';
import { closedPort, sendJson, startServer, type TestServer } from './servers.ts';

const Square = defineSynapse({
  name: 'Square',
  request: z.object({ x: z.number().int() }),
  response: z.object({ y: z.number().int() }),
  requiredHashFields: ['x'],
});

let alice: Keypair;
let bob: Keypair;
let charlie: Keypair;
/** One axon per target, as on a subnet: the axon's nonce check is per dendrite, and a fan-out's requests may arrive in any order. */
const axons: Axon[] = [];
let echo: TestServer;

beforeAll(async () => {
  await cryptoReady();
  alice = keypairFromUri('//Alice');
  bob = keypairFromUri('//Bob');
  charlie = keypairFromUri('//Charlie');
  // real axons: each checks every signature against the caller's hotkey and the nonces per dendrite
  for (let i = 0; i < 48; i++) {
    const axon = createAxon({
      keypair: bob, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), metricsRegistry: new Registry(), rateLimit: false,
      callers: { lookup: () => ({ uid: 0, stake: 10n ** 12n, validatorPermit: true }) },
    });
    axon.attach(Square, async ({ x }) => ({ y: x * x }));
    await axon.start();
    axons.push(axon);
  }
  echo = await startServer((req, res) => sendJson(res, 200, { ...(JSON.parse(req.body) as object), y: 0 }));
});
afterAll(async () => {
  await Promise.all(axons.map((a) => a.stop()));
  await echo.close();
});

const toAxon = (n: number): AxonTarget[] => axons.slice(0, n).map((a) => ({ ip: '127.0.0.1', port: a.port, hotkey: bob.ss58Address }));

describe('shared worker signer', () => {
  it('two Dendrites with different keys share one worker; the axon accepts every request', async () => {
    const signer = sharedSigner();
    await signer.sign(alice, []); // worker and its WASM up, so it takes a share of the fan-outs below
    let byWorker = 0;
    const job = signer.job.bind(signer);
    const spy = vi.spyOn(signer, 'job').mockImplementation((key, messages, onSignature, opts) =>
      job(key, messages, (i, s) => {
        byWorker++;
        onSignature(i, s);
      }, opts));
    const a = new Dendrite({ keypair: alice });
    const c = new Dendrite({ keypair: charlie });
    try {
      const [ra, rc] = await Promise.all([
        a.forward(toAxon(48), Square, (_t, i) => ({ x: i }), { timeoutMs: 10_000 }),
        c.forward(toAxon(48), Square, (_t, i) => ({ x: 100 + i }), { timeoutMs: 10_000 }),
      ]);
      for (const [rs, base] of [[ra, 0], [rc, 100]] as const) {
        rs.forEach((r, i) => {
          expect(r.statusCode, r.statusMessage).toBe(200);
          expect(r.response?.y).toBe((base + i) * (base + i));
        });
      }
      expect(spy).toHaveBeenCalledTimes(2);
      expect(spy.mock.calls.map((call) => call[0])).toEqual([alice, charlie]);
      expect(byWorker).toBeGreaterThan(0);
      expect(signer.running).toBe(true);
    } finally {
      spy.mockRestore();
      await Promise.all([a.close(), c.close()]);
    }
  });

  it('closing a Dendrite leaves the shared worker to the others', async () => {
    const a = new Dendrite({ keypair: alice });
    await a.close();
    expect(sharedSigner().running).toBe(true);
    const c = new Dendrite({ keypair: charlie });
    try {
      const rs = await c.forward(toAxon(20), Square, { x: 3 }, { timeoutMs: 10_000 });
      expect(rs.every((r) => r.ok && r.response?.y === 9)).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('a worker that dies mid-job: the dendrite signs the rest itself and every signature verifies', async () => {
    const broken = new WorkerSigner(new URL('./fixtures/crashing-sign-worker.mjs', import.meta.url));
    const d = new Dendrite({ keypair: alice, workerSigning: broken, protocol: 'synapse' });
    const before = echo.captured.length;
    try {
      const targets = Array.from({ length: 40 }, () => ({ ip: '127.0.0.1', port: echo.port, hotkey: bob.ss58Address }));
      const rs = await d.forward(targets, Square, { x: 2 }, { timeoutMs: 10_000 });
      expect(rs.every((r) => r.ok)).toBe(true);
      const reqs = echo.captured.slice(before);
      expect(reqs).toHaveLength(40);
      for (const req of reqs) {
        const h = parseHeaders(req.headers);
        const p = { nonce: h.dendrite.nonce!, dendriteHotkey: alice.ss58Address, axonHotkey: bob.ss58Address, uuid: d.uuid, bodyHash: h.computed_body_hash! };
        expect(verifyRequestSignature(p, h.dendrite.signature!)).toBe(true);
      }
      // and through the real axon too
      const ra = await d.forward(toAxon(20), Square, { x: 5 }, { timeoutMs: 10_000 });
      expect(ra.every((r) => r.ok && r.response?.y === 25)).toBe(true);
    } finally {
      await d.close();
      await broken.close();
    }
  });

  it('a worker script that cannot load: local signing', async () => {
    const missing = new WorkerSigner(new URL('./fixtures/no-such-worker.mjs', import.meta.url));
    const d = new Dendrite({ keypair: alice, workerSigning: missing });
    try {
      const rs = await d.forward(toAxon(24), Square, { x: 4 }, { timeoutMs: 10_000 });
      expect(rs.every((r) => r.ok && r.response?.y === 16)).toBe(true);
    } finally {
      await d.close();
    }
  });

  it('does not keep the process alive: a script that never closes its Dendrite exits by itself', async () => {
    const script = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));
    const r = await runProcess(process.execPath, ['--import', 'tsx', script, String(await closedPort())], { timeoutMs: 30_000 });
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ running: true, codes: [503] });
  });
});
