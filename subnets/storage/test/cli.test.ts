import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalChain, RAO_PER_TAO } from '../../../framework/chain/index.ts';
import { startMiner, type MinerHandle } from '../../../framework/miner/index.ts';
import { cryptoReady, keypairFromUri } from '../../../framework/wallet/index.ts';
import { serveGatewayApi } from '../src/api.ts';
import { createStorageCommodity } from '../src/commodity.ts';
import { Gateway } from '../src/gateway.ts';
import { MetadataDb } from '../src/metadata.ts';
import { honestMiner } from '../src/miner.ts';
import { ShardStore } from '../src/shard-store.ts';

const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
// Asynchronous on purpose: the gateway runs in this process, so a blocking spawn would starve it. Node
// with the tsx loader, not the tsx binary (which starts a second node process per command).
const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', cli, ...args], { timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr }),
    );
  });

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('storage CLI against a real gateway (put → id, get → exact bytes, ls, rm, errors)', () => {
  it('round-trips a file and reports user mistakes in one line', async () => {
    await cryptoReady();
    const dir = mkdtempSync(join(tmpdir(), 'storage-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const chain = await LocalChain.create({ blockTimeMs: 0 });
    cleanups.push(() => chain.close());
    const owner = keypairFromUri('//Alice');
    const netuid = await chain.registerNetwork(owner, keypairFromUri('//cli/owner').ss58Address);
    await chain.setHyperparameters(owner, netuid, { servingRateLimit: 0 });
    const validator = keypairFromUri('//cli/validator');
    await chain.burnedRegister(owner, netuid, validator.ss58Address);
    const commodity = createStorageCommodity();
    const miners: MinerHandle[] = [];
    for (let i = 0; i < 6; i++) {
      const ck = keypairFromUri(`//cli/cold/${i}`);
      await chain.faucet(ck.ss58Address, 1000n * RAO_PER_TAO);
      const hk = keypairFromUri(`//cli/miner/${i}`);
      await chain.burnedRegister(ck, netuid, hk.ss58Address);
      const store = new ShardStore({ dir: join(dir, `m${i}`), capacityBytes: 64 * 1024 * 1024, maxShardBytes: 4 * 1024 * 1024 });
      miners.push(await startMiner({ chain, netuid, hotkey: hk, commodity, miner: honestMiner(store), axon: { host: '127.0.0.1', port: 0 }, logger: pino({ level: 'silent' }) }));
    }
    cleanups.push(async () => void (await Promise.all(miners.map((m) => m.stop()))));
    await chain.produceBlocks(1);
    const db = new MetadataDb(join(dir, 'meta.db'));
    const gw = new Gateway({ db, chain, netuid, hotkey: validator, params: { maxObjectBytes: 1024 * 1024 } });
    const apiServer = await serveGatewayApi(gw, { port: 0 });
    cleanups.push(async () => {
      await apiServer.close();
      await gw.close();
      db.close();
    });
    const g = ['--gateway', apiServer.url];

    const file = join(dir, 'in.bin');
    const data = randomBytes(300_001);
    writeFileSync(file, data);
    const put = await run([...g, 'put', file]);
    expect(put.code, put.stderr).toBe(0);
    const id = put.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    // two miners go away: any k = 4 of the 6 shards still rebuild the object
    await miners[0].stop();
    await miners[1].stop();
    const out = join(dir, 'out.bin');
    const get = await run([...g, 'get', id, '-o', out]);
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const ls = await run([...g, 'ls']);
    expect(ls.stdout).toContain(id);
    expect(ls.stdout).toContain('in.bin');

    const big = join(dir, 'big.bin');
    writeFileSync(big, randomBytes(1024 * 1024 + 1));
    // the user mistakes are independent: run them side by side
    const [tooBig, badId, missing, down] = await Promise.all([
      run([...g, 'put', big]),
      run([...g, 'get', 'nope']),
      run([...g, 'put', join(dir, 'missing')]),
      run(['--gateway', 'http://127.0.0.1:9', 'ls']),
    ]);
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toMatch(/^error: object of 1048577 bytes exceeds the 1048576-byte limit\n$/);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/^error: invalid object id/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no such file/);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error: cannot reach the gateway/);
    for (const r of [tooBig, badId, missing, down]) expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace

    expect((await run([...g, 'rm', id])).code).toBe(0);
    const gone = await run([...g, 'get', id]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/no object/);
  }, 400_000);
});
