import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeAddress } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toJson } from '../../framework/chain/codec.ts';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { startLocalnetServer, type LocalnetServer } from '../../framework/chain/localnet-server.ts';
import { SIGNING_CONTEXT } from '../../framework/chain/wire.ts';
import { UserError } from '../../framework/errors.ts';
import { sign, u8aToHex, type Keypair } from '../../framework/wallet/keypair.ts';
import { keys } from './helpers.ts';
import { killHard, startLocalnetProcess, type LocalnetProcess } from './localnet-process.ts';

const TAO = 1_000_000_000n;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'localnet-harden-'));
  dirs.push(d);
  return d;
};
let chain: LocalChain;
let server: LocalnetServer;
let alice: Keypair;

beforeAll(async () => {
  alice = await keys('//Alice');
  chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'harden' });
  server = await startLocalnetServer({ chain, port: 0, requestTimeoutMs: 1_000, wsMaxBufferedBytes: 64 * 1024, wsMaxCatchUpBlocks: 64 });
});
afterAll(async () => {
  await server?.close();
  await chain?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function postJson(url: string, path: string, body: unknown): Promise<{ status: number; json: { ok: boolean; result?: unknown; error?: { code: string; message: string } } }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { ok: boolean; error?: { code: string; message: string } } };
}

function signedWrite(genesisHash: string, signer: Keypair, call: string, args: unknown): { payload: string; signature: string; signer: string } {
  const payload = toJson({ genesisHash, call, args, nonce: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex'), timestamp: Date.now() });
  return { payload, signature: u8aToHex(sign(signer, SIGNING_CONTEXT + payload)), signer: signer.ss58Address };
}

describe('localnet replay protection keys on the public key (issue 9 #1)', () => {
  it('a write replayed under 10 other SS58 encodings of the signer is refused every time; addresses are normalised', async () => {
    const body = signedWrite(chain.genesisHash, alice, 'registerNetwork', { ownerHotkey: (await keys('//Alice//h1')).ss58Address });
    expect((await postJson(server.url, '/submit', body)).json.ok).toBe(true);
    const statuses: number[] = [];
    for (const prefix of [0, 2, 5, 7, 10, 12, 20, 36, 63, 255]) {
      const other = encodeAddress(alice.publicKey, prefix);
      expect(other).not.toBe(alice.ss58Address);
      const r = await postJson(server.url, '/submit', { ...body, signer: other });
      statuses.push(r.status);
      expect(r.json.error?.code).toBe('Stale');
    }
    console.log(`re-encoded replays: ${statuses.filter((s) => s === 409).length} of 10 refused (409 Stale)`);
    expect(statuses.every((s) => s === 409)).toBe(true);
    expect(await chain.subnetExists(2)).toBe(false); // one subnet, not eleven
    // the faucet and reads take any encoding and mean the same account
    const poor = await keys('//Poor');
    expect((await postJson(server.url, '/faucet', { coldkey: encodeAddress(poor.publicKey, 2), amount: String(5n * TAO) })).json.ok).toBe(true);
    expect(await chain.getBalance(poor.ss58Address)).toBe(5n * TAO);
    const read = await postJson(server.url, '/read', { method: 'getBalance', params: { coldkey: encodeAddress(poor.publicKey, 7) } });
    expect(read.json.result).toBe(String(5n * TAO));
  });
});

describe('over-long SS58 text is bounded before decoding (issue 9 #5)', () => {
  it('40,000-character addresses are refused in milliseconds while /health keeps answering', async () => {
    const long = '5'.repeat(40_000);
    const timings: Record<string, number> = {};
    const cases: Array<[string, string, unknown]> = [
      ['read', '/read', { method: 'getBalance', params: { coldkey: long } }],
      ['faucet', '/faucet', { coldkey: long, amount: '1' }],
      ['submit signer', '/submit', { ...signedWrite(chain.genesisHash, alice, 'registerNetwork', { ownerHotkey: alice.ss58Address }), signer: long }],
    ];
    for (const [name, path, body] of cases) {
      const t0 = performance.now();
      const r = await postJson(server.url, path, body);
      timings[name] = performance.now() - t0;
      expect(r.status).toBe(400);
      expect(r.json.error?.message).toMatch(/too long for an SS58 address/);
    }
    const t0 = performance.now();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    console.log(`40,000-character SS58: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')}; /health ${(performance.now() - t0).toFixed(1)} ms`);
    for (const ms of Object.values(timings)) expect(ms).toBeLessThan(250);
  });
});

/** A WebSocket client on a raw socket: handshake, one subscribe frame, then it never reads again. */
function nonReadingSubscriber(port: number, messages: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    s.once('data', () => {
      const payload = Buffer.from(JSON.stringify({ type: 'subscribe', fromBlock: 0 }));
      const mask = Buffer.from([1, 2, 3, 4]);
      const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)))]);
      for (let i = 0; i < messages; i++) s.write(frame);
      s.pause(); // never read again
      resolve(s);
    });
    s.on('error', () => {});
    setTimeout(() => reject(new Error('no handshake')), 5_000);
  });
}

describe('WebSocket subscribers that never read are bounded (issue 9 #6)', () => {
  it('a repeated subscribe is refused; slow consumers are closed and counted; a reading subscriber keeps going', async () => {
    const port = server.port;
    await chain.produceBlocks(300); // more than the catch-up bound
    // a normal subscriber that reads
    const reader = new WebSocket(server.wsUrl);
    const got: number[] = [];
    reader.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; block?: { number: number } };
      if (m.block) got.push(m.block.number);
    });
    await new Promise((r) => reader.once('open', r));
    reader.send(JSON.stringify({ type: 'subscribe', fromBlock: 0 }));
    // the repeated-subscribe amplifier: 500 subscribes on one socket
    const amplifier = await nonReadingSubscriber(port, 500);
    // sockets that subscribe once and never read (each needs ~3 MB of blocks to fill the loopback buffers)
    const slow = await Promise.all(Array.from({ length: 3 }, () => nonReadingSubscriber(port, 1)));
    const dropped = async () => ((await (await fetch(`${server.url}/health`)).json()) as { result: { wsDropped: number } }).result.wsDropped;
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    let produced = 0;
    // small batches with a pause between, so the (in-process) reading subscriber keeps up
    while (produced < 200_000 && performance.now() - t0 < 30_000) {
      await chain.produceBlocks(250);
      produced += 250;
      await new Promise((r) => setTimeout(r, 1));
      if (produced % 1000 === 0 && (await dropped()) >= 4) break;
    }
    // the clients see the server's close once they read again
    const closed = new Set<Socket>();
    await Promise.all(
      [amplifier, ...slow].map(
        (s) =>
          new Promise<void>((r) => {
            s.once('close', () => {
              closed.add(s);
              r();
            });
            setTimeout(r, 5_000);
            s.resume();
          }),
      ),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const health = (await (await fetch(`${server.url}/health`)).json()) as { result: { wsDropped: number; wsSubscribers: number } };
    const rssGrowth = (process.memoryUsage().rss - rss0) / 1024 / 1024;
    console.log(
      `slow WebSocket subscribers: ${closed.size} of 4 closed after ${produced} blocks (${(performance.now() - t0).toFixed(0)} ms), buffered limit 64 KiB; ` +
        `reader got ${got.length} blocks (catch-up bound 64), still open: ${reader.readyState === WebSocket.OPEN}; RSS growth ${rssGrowth.toFixed(0)} MiB; ` +
        `health ${JSON.stringify(health.result)}`,
    );
    expect(closed.size).toBe(4);
    expect(metrics).toMatch(/localnet_ws_dropped_subscribers_total\{reason="protocol"\} 1/);
    expect(metrics).toMatch(/localnet_ws_dropped_subscribers_total\{reason="slow"\} 3/);
    expect(health.result.wsDropped).toBe(4);
    expect(reader.readyState).toBe(WebSocket.OPEN);
    const head = (await chain.getBlock()).number;
    await new Promise((r) => setTimeout(r, 200));
    expect(got[0]).toBe(300 - 64 + 1); // catch-up: the newest 64 blocks
    expect(got[got.length - 1]).toBe(head);
    reader.close();
  }, 60_000);
});

describe('slow request bodies time out on the localnet (issue 9 #7)', () => {
  it('a body trickling in is answered 408 and closed at the request timeout', async () => {
    const t0 = performance.now();
    const status = await new Promise<string>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => s.write('POST /faucet HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{'));
      let out = '';
      const drip = setInterval(() => s.writable && s.write(' '), 200);
      s.on('data', (d) => (out += d.toString()));
      s.on('error', () => {});
      s.on('close', () => {
        clearInterval(drip);
        resolve(out.split('\r\n')[0] ?? '');
      });
      setTimeout(() => s.destroy(), 8_000);
    });
    const ms = performance.now() - t0;
    console.log(`localnet slow body closed after ${ms.toFixed(0)} ms (request timeout 1 000 ms): ${status}`);
    expect(status).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(4_000);
  });
});

describe('state files that parse but are wrong are refused clearly (issue 9 #9, #11)', () => {
  async function validStateFile(): Promise<string> {
    const path = join(tmp(), 'state.json');
    const c = await LocalChain.create({ blockTimeMs: 0, statePath: path, genesisSeed: 'file' });
    await c.close();
    return path;
  }

  it('deeply nested JSON is refused like any invalid state, and the file is not overwritten', async () => {
    const path = await validStateFile();
    const text = readFileSync(path, 'utf8');
    const absurd = `${text.slice(0, -1)},"junk":${'['.repeat(5_000)}${']'.repeat(5_000)}}`;
    JSON.parse(absurd); // it does parse
    writeFileSync(path, absurd);
    const err = await LocalChain.create({ blockTimeMs: 0, statePath: path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/is not valid: JSON nested deeper than 32 levels/);
    expect(readFileSync(path, 'utf8')).toBe(absurd);
  });

  it('a wrong field is named with its problem, on one line', async () => {
    const path = await validStateFile();
    const state = JSON.parse(readFileSync(path, 'utf8')) as { head: { number: unknown } };
    state.head.number = 'twelve';
    writeFileSync(path, JSON.stringify(state));
    const err = (await LocalChain.create({ blockTimeMs: 0, statePath: path }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    console.log(`wrong-schema state: ${err.message}`);
    expect(err.message).toMatch(/is not valid: head\.number: Expected number, received string$/);
    expect(err.message).not.toContain('\n');
  });
});

describe('durability across kill -9 (issue 9 #2, #8)', () => {
  let proc: LocalnetProcess | undefined;
  afterAll(async () => {
    if (proc) await killHard(proc);
  });

  it('used nonces survive a restart; writes are acknowledged only once durable, refused while the state cannot be written', async () => {
    const root = tmp();
    const dir = join(root, 'state');
    const away = join(root, 'state.away');
    const path = join(dir, 'state.json');
    const args = ['--port', '0', '--block-time', '0', '--state', path];
    proc = await startLocalnetProcess(args);
    const info = (await (await fetch(`${proc.url}/info`)).json()) as { genesisHash: string };
    const acked = new Map<string, bigint>();
    const faucet = async (uri: string, tao: bigint) => {
      const k = await keys(uri);
      const r = await postJson(proc!.url, '/faucet', { coldkey: k.ss58Address, amount: String(tao * TAO) });
      if (r.json.ok) acked.set(k.ss58Address, tao * TAO);
      return r;
    };
    // a signed write, then kept for replay after the restart
    const write = signedWrite(info.genesisHash, alice, 'registerNetwork', { ownerHotkey: (await keys('//Alice//dur')).ss58Address });
    expect((await postJson(proc.url, '/submit', write)).json.ok).toBe(true);
    expect((await faucet('//Dur1', 1n)).json.ok).toBe(true);

    // the state directory becomes unusable (a file where the directory was: unwritable even for root)
    renameSync(dir, away);
    writeFileSync(dir, 'not a directory');
    const refused = await faucet('//Dur2', 2n);
    const refusedNet = await postJson(proc.url, '/submit', signedWrite(info.genesisHash, alice, 'registerNetwork', { ownerHotkey: (await keys('//Alice//dur2')).ss58Address }));
    const health = await fetch(`${proc.url}/health`);
    const healthBody = (await health.json()) as { error?: { message: string } };
    console.log(`state unwritable: faucet ${refused.status} ${refused.json.error?.code}, register_network ${refusedNet.status} ${refusedNet.json.error?.code}, /health ${health.status}: ${healthBody.error?.message}`);
    expect(refused.status).toBe(503);
    expect(refused.json.error?.code).toBe('PersistenceFailed');
    expect(refusedNet.status).toBe(503);
    expect(health.status).toBe(503);
    expect(proc.output()).toMatch(/cannot write chain state .*refusing writes/);

    // storage comes back: writes work again
    rmSync(dir);
    renameSync(away, dir);
    expect((await faucet('//Dur3', 3n)).json.ok).toBe(true);
    expect((await fetch(`${proc.url}/health`)).status).toBe(200);
    expect(proc.output()).toMatch(/work again/);

    // unusable again, then kill -9 while it is
    renameSync(dir, away);
    writeFileSync(dir, 'not a directory');
    const lost = await faucet('//Dur4', 4n);
    expect(lost.json.ok).toBe(false);
    await killHard(proc);
    rmSync(dir);
    renameSync(away, dir);
    proc = await startLocalnetProcess(args);
    const balances: string[] = [];
    for (const [coldkey, amount] of acked) {
      const r = await postJson(proc.url, '/read', { method: 'getBalance', params: { coldkey } });
      balances.push(`${coldkey.slice(0, 6)}… ${r.json.result}`);
      expect(r.json.result).toBe(String(amount));
    }
    console.log(`after kill -9 and restart: ${acked.size} acknowledged faucet writes, all present (${balances.join(', ')})`);
    // the pre-restart write cannot be replayed (its nonce was persisted with the state)
    const replay = await postJson(proc.url, '/submit', write);
    console.log(`replay after restart: ${replay.status} ${replay.json.error?.code}`);
    expect(replay.status).toBe(409);
    expect(replay.json.error?.code).toBe('Stale');
  }, 90_000);
});
