import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAxon, type Axon, type AxonOptions } from '../../framework/axon/index.ts';
import { cryptoReady, keypairFromSeed, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { Echo, MemoryCallers, post, signedRequest } from './support.ts';

let alice: Keypair;
const validators: Keypair[] = [];
const callers = new MemoryCallers();
let axon: Axon | undefined;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  await cryptoReady();
  alice = keypairFromUri('//Alice');
  for (let i = 0; i < 3; i++) {
    const k = keypairFromSeed(new Uint8Array(32).fill(i + 1));
    validators.push(k);
    callers.set(k.ss58Address, { uid: i, stake: BigInt((i + 1) * 100), validatorPermit: true });
  }
});
afterEach(async () => {
  await axon?.stop();
  axon = undefined;
});

/** A handler that holds its slot until the test opens the gate (or the request is aborted). */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const served: string[] = [];
  const state = { entered: 0 };
  return {
    open: () => open(),
    served,
    state,
    handler: async (req: { text: string; n: number }, ctx: { signal: AbortSignal }) => {
      state.entered++;
      await Promise.race([gate, new Promise((r) => ctx.signal.addEventListener('abort', r))]);
      served.push(req.text);
      return { reply: req.text, doubled: req.n * 2 };
    },
  };
}

async function start(opts: Partial<AxonOptions>, attach: (a: Axon) => void): Promise<Axon> {
  axon = createAxon({ keypair: alice, callers, host: '127.0.0.1', port: 0, logger: silent, rateLimit: false, ...opts });
  attach(axon);
  await axon.start();
  return axon;
}

const call = (a: Axon, caller: Keypair, text: string, timeout = 12) =>
  post(a.port, 'Echo', signedRequest(Echo, { text, n: 1 }, caller, alice.ss58Address, { timeout }));
const queueDepth = async (a: Axon) => (await a.metrics.getSingleMetric('axon_queue_depth')?.get())?.values[0]?.value;
const untilAsync = async (cond: () => Promise<boolean>) => {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 5));
};
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('admission', () => {
  it('queue overflow is a fast 503; queued requests run later in stake order', async () => {
    const g = gated();
    const a = await start({ admission: { maxConcurrent: 1, maxQueue: 2 } }, (x) => x.attach(Echo, g.handler));
    const [v0, v1, v2] = validators as [Keypair, Keypair, Keypair];
    const first = call(a, v0, 'first');
    await until(() => g.state.entered === 1);
    const low = call(a, v0, 'low-stake'); // stake 100
    const high = call(a, v2, 'high-stake'); // stake 300
    await untilAsync(async () => (await queueDepth(a)) === 2);
    const t0 = Date.now();
    const overflow = call(a, v1, 'overflow'); // stake 200 > low's 100: displaces it
    const displaced = await low;
    expect(displaced.status).toBe(503);
    expect((displaced.json as { message: string }).message).toMatch(/displaced by a higher-priority request/);
    const another = await call(a, v0, 'too-low'); // stake 100 < every waiter: refused at once
    expect(another.status).toBe(503);
    expect((another.json as { message: string }).message).toMatch(/queue is full/);
    expect(Date.now() - t0).toBeLessThan(5000); // fast, not after the 12 s timeout
    g.open();
    expect((await first).status).toBe(200);
    expect((await high).status).toBe(200);
    expect((await overflow).status).toBe(200);
    expect(g.served).toEqual(['first', 'high-stake', 'overflow']);
  });

  it('a request still queued at its timeout gets 408', async () => {
    const g = gated();
    const a = await start({ admission: { maxConcurrent: 1, maxQueue: 5 } }, (x) => x.attach(Echo, g.handler));
    const first = call(a, validators[0] as Keypair, 'first', 5);
    await until(() => g.state.entered === 1);
    const t0 = Date.now();
    const queued = await call(a, validators[1] as Keypair, 'queued', 0.3);
    const waited = Date.now() - t0;
    expect(queued.status).toBe(408);
    expect((queued.json as { message: string }).message).toBe('Response timeout after: 0.3s');
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
    g.open();
    expect((await first).status).toBe(200);
  });

  it('a handler running past the timeout gets 408 and sees its signal aborted', async () => {
    let aborted = false;
    const a = await start({}, (x) =>
      x.attach(Echo, async (_req, ctx) => {
        await new Promise((r) => ctx.signal.addEventListener('abort', r));
        aborted = ctx.signal.aborted;
        return { reply: 'late', doubled: 0 };
      }),
    );
    const r = await call(a, validators[0] as Keypair, 'slow', 0.2);
    expect(r.status).toBe(408);
    expect(aborted).toBe(true);
  });

  it('the timeout header is capped by maxTimeoutMs', async () => {
    const a = await start({ maxTimeoutMs: 200 }, (x) =>
      x.attach(Echo, async (_req, ctx) => {
        await new Promise((r) => ctx.signal.addEventListener('abort', r));
        return { reply: 'late', doubled: 0 };
      }),
    );
    const t0 = Date.now();
    const r = await call(a, validators[0] as Keypair, 'slow', 30);
    expect(r.status).toBe(408);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('slots are never lost', () => {
  it('a handler that ignores its abort signal frees its slot shortly after the deadline', async () => {
    let calls = 0;
    const a = await start({ admission: { maxConcurrent: 1, maxQueue: 5 } }, (x) =>
      x.attach(Echo, async (req) => {
        calls++;
        if (req.text === 'hang') await new Promise((r) => setTimeout(r, 30_000).unref());
        return { reply: req.text, doubled: 0 };
      }),
    );
    const hung = await call(a, validators[0] as Keypair, 'hang', 0.2);
    expect(hung.status).toBe(408);
    const t0 = Date.now();
    const next = await call(a, validators[1] as Keypair, 'next', 10);
    expect(next.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(8_000); // ≈ 2 s grace, not the handler's 30 s
    expect(calls).toBe(2);
  });
});

describe('many callers', () => {
  it('400 requests from 200 distinct (unregistered) callers with nonce capacity 60: all answered', async () => {
    const capacity = 60;
    const a = await start({ blacklist: { allowUnregistered: true }, nonce: { capacity }, admission: { maxConcurrent: 64, maxQueue: 1000 } }, (x) =>
      x.attach(Echo, (req) => ({ reply: req.text, doubled: req.n * 2 })),
    );
    const keys = Array.from({ length: 200 }, (_, i) => {
      const seed = new Uint8Array(32);
      new DataView(seed.buffer).setUint32(0, i + 1000);
      return keypairFromSeed(seed);
    });
    const statuses = new Map<number, number>();
    for (let round = 0; round < 2; round++) {
      const rs = await Promise.all(keys.map((k, i) => call(a, k, `r${round}-${i}`)));
      for (const r of rs) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect(statuses.get(200)).toBe(400);
    const metrics = await a.metrics.getSingleMetricAsString('axon_requests_total');
    expect(metrics).toMatch(/route="Echo",status="200",caller_class="unknown",protocol="synapse"\} 400/);
  });
});
