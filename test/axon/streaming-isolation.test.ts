import { pino } from 'pino';
import { request } from 'undici';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedWorkerPool, createAxon, runInWorker, type Axon } from '../../framework/axon/index.ts';
import { defineSynapse } from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { Echo, MemoryCallers, post, signedRequest } from './support.ts';

const Tokens = defineSynapse({
  name: 'Tokens',
  request: z.object({ prompt: z.string(), count: z.number().int(), gapMs: z.number().int() }),
  response: z.object({ completion: z.string() }),
  requiredHashFields: ['prompt'],
  streaming: true,
});
const Work = defineSynapse({
  name: 'Work',
  request: z.object({ ms: z.number().int(), where: z.enum(['worker', 'main']) }),
  response: z.object({ spunMs: z.number().int() }),
});
const TASKS = new URL('./fixtures/cpu-tasks.ts', import.meta.url);

let axon: Axon;
let alice: Keypair;
let bob: Keypair;

beforeAll(async () => {
  await cryptoReady();
  alice = keypairFromUri('//Alice');
  bob = keypairFromUri('//Bob');
  const callers = new MemoryCallers().set(bob.ss58Address, { uid: 1, stake: 10n, validatorPermit: true });
  axon = createAxon({ keypair: alice, callers, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), rateLimit: false });
  axon.attach(Tokens, async function* (req, ctx) {
    for (let i = 0; i < req.count && !ctx.signal.aborted; i++) {
      yield `${req.prompt}-${i} `;
      await new Promise((r) => setTimeout(r, req.gapMs));
    }
  });
  axon.attach(Work, async (req, ctx) => {
    if (req.where === 'worker') return runInWorker<{ spunMs: number }>(TASKS, 'spin', { ms: req.ms }, ctx.signal);
    const t = Date.now();
    while (Date.now() - t < req.ms) {
      /* CPU-bound on the event loop: the anti-pattern */
    }
    return { spunMs: Date.now() - t };
  });
  axon.attach(Echo, (req) => ({ reply: req.text, doubled: req.n * 2 }));
  await axon.start();
});
afterAll(async () => {
  await axon.stop();
  await closeSharedWorkerPool();
});

describe('streaming', () => {
  it('streams chunks as the handler produces them, with text/event-stream and axon headers', async () => {
    const r = signedRequest(Tokens, { prompt: 'tok', count: 5, gapMs: 150 }, bob, alice.ss58Address);
    const t0 = performance.now();
    const res = await request(`http://127.0.0.1:${axon.port}/Tokens`, { method: 'POST', headers: r.headers, body: r.body });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers.bt_header_axon_status_code).toBe('200');
    const arrivals: number[] = [];
    let text = '';
    for await (const chunk of res.body) {
      arrivals.push(performance.now() - t0);
      text += (chunk as Buffer).toString('utf8');
    }
    expect(text).toBe('tok-0 tok-1 tok-2 tok-3 tok-4 ');
    // flushed as produced: the first bytes arrive long before the stream ends (5 × 150 ms)
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(400);
  });

  it('a streaming handler still goes through verification', async () => {
    const r = signedRequest(Tokens, { prompt: 'x', count: 1, gapMs: 0 }, bob, alice.ss58Address, { signature: '' });
    expect((await post(axon.port, 'Tokens', r)).status).toBe(401);
  });
});

describe('shutdown', () => {
  it('stop() ends a long stream after the grace period instead of hanging', async () => {
    const a = createAxon({
      keypair: alice,
      callers: new MemoryCallers().set(bob.ss58Address, { uid: 1, stake: 10n, validatorPermit: true }),
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      stopGraceMs: 200,
    });
    a.attach(Tokens, async function* (req, ctx) {
      for (let i = 0; i < req.count && !ctx.signal.aborted; i++) {
        yield `t${i} `;
        await new Promise((r) => setTimeout(r, req.gapMs));
      }
    });
    await a.start();
    const r = signedRequest(Tokens, { prompt: 'x', count: 1000, gapMs: 50 }, bob, alice.ss58Address);
    const res = await request(`http://127.0.0.1:${a.port}/Tokens`, { method: 'POST', headers: r.headers, body: r.body });
    const reading = (async () => {
      let n = 0;
      try {
        for await (const _ of res.body) n++;
      } catch {
        /* connection closed by the shutdown */
      }
      return n;
    })();
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await a.stop();
    expect(Date.now() - t0).toBeLessThan(3_000);
    const chunks = await reading;
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThan(1000);
  });
});

describe('CPU-heavy handlers', () => {
  async function slowAndFast(where: 'worker' | 'main') {
    const t0 = performance.now();
    const slow = post(axon.port, 'Work', signedRequest(Work, { ms: 1500, where }, bob, alice.ss58Address)).then((r) => ({ r, at: performance.now() - t0 }));
    await new Promise((r) => setTimeout(r, 200)); // the slow one is running
    const t1 = performance.now();
    const fast = await post(axon.port, 'Echo', signedRequest(Echo, { text: 'quick', n: 1 }, bob, alice.ss58Address));
    const fastMs = performance.now() - t1;
    const s = await slow;
    expect(fast.status).toBe(200);
    expect(s.r.status).toBe(200);
    return { fastMs, fastDoneBeforeSlow: t1 - t0 + fastMs < s.at };
  }

  it('run in a worker (runInWorker), it does not delay a concurrent fast request', async () => {
    const { fastMs, fastDoneBeforeSlow } = await slowAndFast('worker');
    expect(fastDoneBeforeSlow).toBe(true);
    expect(fastMs).toBeLessThan(1000);
  });

  it('control: the same work on the event loop does stall the fast request', async () => {
    const { fastDoneBeforeSlow } = await slowAndFast('main');
    expect(fastDoneBeforeSlow).toBe(false);
  });
});
