import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAxon, type Axon } from '../../framework/axon/index.ts';
import { Dendrite, type AxonTarget } from '../../framework/dendrite/index.ts';
import { defineSynapse } from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromSeed, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { MemoryCallers } from '../axon/support.ts';

/** Axon ↔ Dendrite end to end, both sides real, over 127.0.0.1. */
const Square = defineSynapse({
  name: 'Square',
  request: z.object({ x: z.number(), label: z.string() }),
  response: z.object({ y: z.number(), by: z.string() }),
  requiredHashFields: ['x', 'label'],
});
const Story = defineSynapse({
  name: 'Story',
  request: z.object({ words: z.number().int(), gapMs: z.number().int() }),
  response: z.object({ completion: z.string() }),
  requiredHashFields: ['words'],
  streaming: true,
});
const Sleep = defineSynapse({ name: 'Sleep', request: z.object({ ms: z.number().int() }), response: z.object({ slept: z.boolean() }) });

const silent = pino({ level: 'silent' });
const callers = new MemoryCallers();
const validators: Keypair[] = [];
let stranger: Keypair;
const axons: Axon[] = [];
let targets: AxonTarget[];
let dendrite: Dendrite;

beforeAll(async () => {
  await cryptoReady();
  for (let i = 0; i < 10; i++) {
    const k = keypairFromSeed(new Uint8Array(32).fill(i + 7));
    validators.push(k);
    callers.set(k.ss58Address, { uid: i, stake: BigInt(1000 - i), validatorPermit: i < 5 });
  }
  stranger = keypairFromUri('//Ferdie');
  for (const uri of ['//Alice', '//Bob', '//Charlie']) {
    const a = createAxon({
      keypair: keypairFromUri(uri),
      callers,
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      rateLimit: false,
      admission: { maxConcurrent: 64, maxQueue: 1000 },
      nonce: { reorderWindowMs: 5_000 },
    });
    a.attach(Square, (req) => ({ y: req.x * req.x, by: uri }));
    a.attach(Story, async function* (req, ctx) {
      for (let i = 0; i < req.words && !ctx.signal.aborted; i++) {
        yield `w${i} `;
        await new Promise((r) => setTimeout(r, req.gapMs));
      }
    });
    a.attach(Sleep, async (req, ctx) => {
      await new Promise((r) => {
        const t = setTimeout(r, req.ms);
        ctx.signal.addEventListener('abort', () => clearTimeout(t));
      });
      return { slept: true };
    });
    await a.start();
    axons.push(a);
  }
  targets = axons.map((a) => ({ ip: '127.0.0.1', port: a.port, hotkey: a.hotkey }));
  // this file pins the v10 Synapse wire (SDK messages, process time, sessions); btauth/1 is test/btauth/
  dendrite = new Dendrite({ keypair: validators[0] as Keypair, protocol: 'synapse' });
});
afterAll(async () => {
  await dendrite.close();
  await Promise.all(axons.map((a) => a.stop()));
});

describe('axon ↔ dendrite', () => {
  it('call: signed request, verified, answered, parsed', async () => {
    const r = await dendrite.call(targets[0] as AxonTarget, Square, { x: 1.5, label: 'é€' });
    expect(r).toMatchObject({ ok: true, statusCode: 200, statusMessage: 'Success', response: { y: 2.25, by: '//Alice' } });
    expect(r.axonProcessTime).toBeGreaterThan(0);
  });

  it('forward to several axons returns results in target order', async () => {
    const rs = await dendrite.forward(targets, Square, (_t, i) => ({ x: i + 2, label: 'fan' }));
    expect(rs.map((r) => r.response?.y)).toEqual([4, 9, 16]);
    expect(rs.map((r) => r.response?.by)).toEqual(['//Alice', '//Bob', '//Charlie']);
  });

  it('rejections reach the dendrite with the SDK status and message', async () => {
    const outsider = new Dendrite({ keypair: stranger, protocol: 'synapse' });
    try {
      const r = await outsider.call(targets[0] as AxonTarget, Square, { x: 1, label: 'x' });
      expect(r).toMatchObject({ ok: false, statusCode: 403, statusMessage: 'Forbidden. Key is blacklisted: Unrecognized hotkey.' });
    } finally {
      await outsider.close();
    }
    // addressed to Bob's hotkey but sent to Alice's axon
    const wrong = await dendrite.call({ ...(targets[0] as AxonTarget), hotkey: (targets[1] as AxonTarget).hotkey }, Square, { x: 1, label: 'x' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.statusMessage).toMatch(/^Not Verified with error: Request is addressed to hotkey/);
  });

  it('timeout: the dendrite gives up and the axon aborts the handler', async () => {
    const r = await dendrite.call(targets[0] as AxonTarget, Sleep, { ms: 5_000 }, { timeoutMs: 300 });
    expect(r.statusCode).toBe(408);
    expect(r.roundTripMs).toBeLessThan(3_000);
  });

  it('streaming: chunks arrive spread out, the completion is assembled', async () => {
    const r = await dendrite.stream(targets[1] as AxonTarget, Story, { words: 6, gapMs: 100 });
    expect(r.ok).toBe(true);
    expect(r.response).toEqual({ completion: 'w0 w1 w2 w3 w4 w5 ' });
    expect(r.chunks.length).toBeGreaterThanOrEqual(3);
    const spread = (r.chunks.at(-1)?.receivedAt ?? 0) - (r.chunks[0]?.receivedAt ?? 0);
    expect(spread).toBeGreaterThan(300);
  });

  it('1,000 concurrent requests (1,000 dendrite sessions from 10 validators) all succeed', async () => {
    const sessions = Array.from({ length: 1000 }, (_, i) => new Dendrite({ keypair: validators[i % 10] as Keypair, connectionsPerOrigin: 1, protocol: 'synapse' }));
    try {
      const t0 = performance.now();
      const rs = await Promise.all(sessions.map((d, i) => d.call(targets[i % 3] as AxonTarget, Square, { x: i, label: `req-${i}` }, { timeoutMs: 60_000 })));
      const ms = performance.now() - t0;
      const failures = rs.filter((r) => !r.ok).map((r) => `${r.statusCode} ${r.statusMessage}`);
      expect(failures).toEqual([]);
      expect(rs.every((r, i) => r.response?.y === i * i)).toBe(true);
      console.log(`1000 concurrent requests in ${ms.toFixed(0)} ms`);
    } finally {
      await Promise.all(sessions.map((d) => d.close()));
    }
  });

  it('one dendrite session, 200 concurrent calls to one axon over 8 connections (reorder window on)', async () => {
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => dendrite.call(targets[2] as AxonTarget, Square, { x: i, label: 'same-session' }, { timeoutMs: 60_000 })));
    expect(rs.filter((r) => !r.ok).map((r) => r.statusMessage)).toEqual([]);
  });
});
