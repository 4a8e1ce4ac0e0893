import { PassThrough } from 'node:stream';
import { Counter, Registry } from 'prom-client';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createAxon } from '../../framework/axon/index.ts';
import { Dendrite } from '../../framework/dendrite/index.ts';
import { serveMetrics } from '../../framework/metrics/index.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { ipAllowList } from '../../framework/util/ip-allow.ts';
import { createLogger } from '../../framework/util/log.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { squareCommodity, squareMiner } from '../validator/commodities.ts';
import { makeNet, silent } from '../validator/support.ts';
import { MemoryCallers } from './support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await request(url);
  return { status: r.statusCode, text: await r.body.text() };
}

/** A JSON logger whose lines the test can read. */
function capture(level: 'debug' | 'info' = 'debug') {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  return { log: createLogger({ level, format: 'json', stream }), lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('/metrics exposure (real sockets on 127.0.0.1)', () => {
  it('the public axon port answers 404 for /metrics by default, and serves it only to an allow-list', async () => {
    await cryptoReady();
    const keypair = keypairFromUri('//Alice');
    const callers = new MemoryCallers();
    const closed = createAxon({ keypair, callers, host: '127.0.0.1', port: 0, logger: silent });
    const elsewhere = createAxon({ keypair, callers, host: '127.0.0.1', port: 0, logger: silent, metricsAllow: ['10.0.0.0/8'] });
    const loopback = createAxon({ keypair, callers, host: '127.0.0.1', port: 0, logger: silent, metricsAllow: ['127.0.0.0/8', '::1'] });
    for (const a of [closed, elsewhere, loopback]) {
      await a.start();
      cleanups.push(() => a.stop());
    }
    const results = await Promise.all([closed, elsewhere, loopback].map((a) => get(`http://127.0.0.1:${a.port}/metrics`)));
    console.log(`GET /metrics from 127.0.0.1: default ${results[0]!.status}, allow 10.0.0.0/8 ${results[1]!.status}, allow 127.0.0.0/8 ${results[2]!.status}`);
    expect(results.map((r) => r.status)).toEqual([404, 404, 200]);
    expect(results[0]!.text).not.toContain('axon_requests_total');
    expect(results[2]!.text).toContain('axon_requests_total');
    // other methods do not reveal the route either: 404 where GET is hidden, 405 where it is served
    const post = (port: number) => fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: '{}' }).then((r) => r.status);
    expect(await Promise.all([closed, elsewhere, loopback].map((a) => post(a.port)))).toEqual([404, 404, 405]);
    expect((await get(`http://127.0.0.1:${closed.port}/healthz`)).status).toBe(200);
    // the registry is still there for a separate server
    expect(await closed.metrics.metrics()).toContain('axon_queue_depth');
  });

  it('serveMetrics with an allow-list answers 403 to peers outside it', async () => {
    const registry = new Registry();
    new Counter({ name: 'demo_total', help: 'demo', registers: [registry] }).inc();
    const denied = await serveMetrics(registry, { port: 0, allow: ['192.168.0.0/16'] });
    const allowed = await serveMetrics(registry, { port: 0, allow: ['127.0.0.1'] });
    cleanups.push(() => denied.close(), () => allowed.close());
    expect((await get(`http://127.0.0.1:${denied.port}/metrics`)).status).toBe(403);
    const ok = await get(`http://127.0.0.1:${allowed.port}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('demo_total 1');
  });

  it('allow-list entries are checked: a typo is an error, IPv4-mapped peers match their IPv4 range', () => {
    for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.1/8/2', '::1/129', '']) expect(() => ipAllowList([bad]), bad).toThrow(/not an IP address or CIDR range/);
    const allow = ipAllowList(['10.0.0.0/8', 'fd00::/8']);
    expect(allow('10.1.2.3')).toBe(true);
    expect(allow('::ffff:10.1.2.3')).toBe(true);
    expect(allow('fd12::1')).toBe(true);
    expect(allow('11.0.0.1')).toBe(false);
    expect(allow('::1')).toBe(false);
    expect(allow(undefined)).toBe(false);
  });

  it('a miner serves its metrics on a separate loopback port, the axon port says 404, and each request is logged at debug', async () => {
    const net = await makeNet({ miners: 1, tag: 'metrics-port' });
    cleanups.push(() => net.chain.close());
    const { log, lines } = capture('debug');
    const m = await startMiner({
      chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[0]!, commodity: squareCommodity(), miner: squareMiner('honest'),
      axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: log, metrics: { port: 0 },
    });
    cleanups.push(() => m.stop());
    expect(m.metricsPort).toBeGreaterThan(0);
    const d = new Dendrite({ keypair: net.validator });
    const target = { ip: '127.0.0.1', port: m.port, hotkey: net.minerHotkeys[0]!.ss58Address };
    const ok = await d.call(target, squareCommodity().synapse, { x: 7 }, { timeoutMs: 5_000 });
    expect(ok.ok, ok.statusMessage).toBe(true);
    // an unregistered caller: refused by the blacklist
    const stranger = await new Dendrite({ keypair: keypairFromUri('//Mallory') }).call(target, squareCommodity().synapse, { x: 7 }, { timeoutMs: 5_000 });
    expect(stranger.ok).toBe(false);

    expect((await get(`http://127.0.0.1:${m.port}/metrics`)).status).toBe(404);
    const scraped = await get(`http://127.0.0.1:${m.metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toMatch(/axon_requests_total\{route="SquareSynapse",status="200",caller_class="registered",protocol="btauth"\} 1/);
    expect(scraped.text).toMatch(/axon_requests_total\{route="SquareSynapse",status="403",caller_class="unknown",protocol="btauth"\} 1/);

    const requests = lines().filter((l) => l.route === 'SquareSynapse' && l.level === 20);
    console.log(`debug request lines: ${requests.map((l) => l.msg).join(' | ')}`);
    expect(requests).toHaveLength(2);
    const short = `${net.validator.ss58Address.slice(0, 8)}…${net.validator.ss58Address.slice(-4)}`;
    expect(requests[0]).toMatchObject({ callerHotkey: short, callerClass: 'registered', status: 200, protocol: 'btauth', role: 'miner' });
    expect(typeof requests[0]!.ms).toBe('number');
    expect(requests[1]).toMatchObject({ callerClass: 'unknown', status: 403, protocol: 'btauth' });
    expect(lines().some((l) => l.msg === 'metrics on /metrics' && l.port === m.metricsPort)).toBe(true);
  }, 60_000);

  it('at info the miner logs no request lines', async () => {
    const net = await makeNet({ miners: 1, tag: 'metrics-info' });
    cleanups.push(() => net.chain.close());
    const { log, lines } = capture('info');
    const m = await startMiner({
      chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[0]!, commodity: squareCommodity(), miner: squareMiner('honest'),
      axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: log,
    });
    cleanups.push(() => m.stop());
    expect(m.metricsPort).toBeNull();
    const r = await new Dendrite({ keypair: net.validator }).call({ ip: '127.0.0.1', port: m.port, hotkey: net.minerHotkeys[0]!.ss58Address }, squareCommodity().synapse, { x: 3 }, { timeoutMs: 5_000 });
    expect(r.ok, r.statusMessage).toBe(true);
    expect(lines().some((l) => l.level === 20 || l.route === 'SquareSynapse')).toBe(false);
    expect(lines().some((l) => l.msg === 'miner started')).toBe(true);
  }, 60_000);
});

describe('log formats', () => {
  it('pretty is one human line per record (time, level, [role/subnet], message, fields); json is one object per line', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true });
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    const pretty = createLogger({ format: 'auto', stream, colorize: false }).child({ role: 'validator', netuid: 3 });
    pretty.info({ round: 7, asked: 4, answered: 3 }, 'round scored');
    console.log(`pretty line:\n${out}`);
    expect(out).toMatch(/^\[?\d\d:\d\d:\d\d\.\d{3}\]? INFO.*\[validator\/sn3\] round scored/m);
    expect(out).toMatch(/round: 7/);
    expect(() => JSON.parse(out.split('\n')[0]!)).toThrow();

    const piped = new PassThrough();
    let json = '';
    piped.on('data', (d: Buffer) => (json += d.toString()));
    createLogger({ format: 'auto', stream: piped }).child({ role: 'miner' }).warn({ x: 1 }, 'hello');
    expect(JSON.parse(json.trim())).toMatchObject({ level: 40, role: 'miner', x: 1, msg: 'hello' });
  });
});
