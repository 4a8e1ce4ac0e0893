/**
 * `npm run bench -- storage`: ratios measured in one run on this machine.
 *   merkle   — Merkle tree build over a shard vs one-shot SHA-256 of the same bytes (target ≥ 80 %)
 *   erasure  — our encode/decode (layout + library) vs the library's raw encode on a ready buffer
 *   put/get  — through the gateway to 6 miners on loopback (LocalChain, real axons) vs copying a file
 *   verify   — validator CPU per verified challenge (c = 8 chunks + Merkle paths)
 *   metadata — SQLite inserts and due-shard lookups at one million shards
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LocalChain, RAO_PER_TAO } from '../../framework/chain/index.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/index.ts';
import { createStorageCommodity } from './src/commodity.ts';
import { decode, encode, rawEncode, shardSizeFor } from './src/erasure.ts';
import { Gateway } from './src/gateway.ts';
import { buildTree, chunkCount, rawSha256, verifyChunk } from './src/merkle.ts';
import { MetadataDb } from './src/metadata.ts';
import { honestMiner, proveChunks } from './src/miner.ts';
import { challengeIndices } from './src/prf.ts';
import { ShardStore } from './src/shard-store.ts';

const MB = 1024 * 1024;
const line = (name: string, value: string, ratio?: number) => process.stdout.write(`${name.padEnd(52)} ${value.padStart(16)}${ratio === undefined ? '' : `  ${(100 * ratio).toFixed(1).padStart(6)} %`}\n`);

function best(iterations: number, fn: () => void): number {
  fn();
  let min = Infinity;
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

function merkle(): void {
  // raw and tree runs alternate, so a load change on the shared machine hits both sides alike
  const data = randomBytes(8 * MB);
  const time = (fn: () => void) => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  };
  for (const cs of [4096, 16384, 65536]) {
    let raw = Infinity;
    let tree = Infinity;
    let leaves = Infinity;
    const n = data.length / cs;
    for (let r = 0; r < 25; r++) {
      raw = Math.min(raw, time(() => rawSha256(data)));
      tree = Math.min(tree, time(() => buildTree(data, cs)));
      leaves = Math.min(leaves, time(() => {
        for (let i = 0; i < n; i++) rawSha256(data.subarray(i * cs, (i + 1) * cs));
      }));
    }
    if (cs === 4096) line('sha256 one-shot, 8 MiB', `${((8 / raw) * 1000).toFixed(0)} MB/s`);
    line(`merkle build, ${cs / 1024} KiB chunks (vs one-shot sha256)`, `${((8 / tree) * 1000).toFixed(0)} MB/s`, raw / tree);
    // the ceiling at this chunk size: one hash() call per chunk and nothing else
    line(`  bare per-chunk sha256 calls, ${cs / 1024} KiB (vs one-shot)`, `${((8 / leaves) * 1000).toFixed(0)} MB/s`, raw / leaves);
  }
}

function erasure(): void {
  const size = 8 * MB;
  const data = randomBytes(size);
  for (const [k, m] of [[4, 2], [10, 4]]) {
    const ss = shardSizeFor(size, k);
    const all = new Uint8Array(ss * (k + m));
    all.set(data);
    const raw = best(8, () => rawEncode(all, k, m));
    const ours = best(8, () => encode(data, { k, m }));
    const shards = encode(data, { k, m });
    const slots = shards.map((s, i) => (i < m ? null : Buffer.from(s)));
    const dec = best(8, () => decode(slots, { k, m }, size));
    line(`reed-solomon k=${k} m=${m}: library raw encode`, `${((8 / raw) * 1000).toFixed(0)} MB/s`);
    line(`reed-solomon k=${k} m=${m}: our encode (vs raw)`, `${((8 / ours) * 1000).toFixed(0)} MB/s`, raw / ours);
    line(`reed-solomon k=${k} m=${m}: decode, ${m} data shards lost`, `${((8 / dec) * 1000).toFixed(0)} MB/s`);
  }
}

function verify(): void {
  const cs = 4096;
  const shard = randomBytes(64 * 1024);
  const root = buildTree(shard, cs).root;
  const n = chunkCount(shard.length, cs);
  const secret = randomBytes(32);
  const answers = Array.from({ length: 200 }, (_, r) => {
    const indices = challengeIndices(secret, `0x${r}`, 'id', n, 8);
    return { indices, ans: proveChunks(shard, cs, indices) };
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = 0;
  for (let rep = 0; rep < 10; rep++)
    for (const { indices, ans } of answers)
      if (indices.every((idx, j) => verifyChunk(root, shard.length, cs, idx, Buffer.from(ans.chunks![j], 'base64'), ans.proofs![j].map((h) => Buffer.from(h, 'hex'))))) ok++;
  const cpu = process.cpuUsage(c0);
  const per = (cpu.user + cpu.system) / ok;
  line('validator CPU per verified challenge (c=8, 4 KiB)', `${per.toFixed(1)} µs`);
  line('  verified challenges per CPU second', `${(1e6 / per).toFixed(0)} /s`);
  void t0;
}

async function putGet(): Promise<void> {
  await cryptoReady();
  const dir = mkdtempSync(join(tmpdir(), 'storage-bench-'));
  const chain = await LocalChain.create({ blockTimeMs: 0 });
  const log = pino({ level: 'silent' });
  const stops: Array<() => Promise<void>> = [];
  try {
    const owner = keypairFromUri('//Alice');
    const netuid = await chain.registerNetwork(owner, keypairFromUri('//bench/owner').ss58Address);
    await chain.setHyperparameters(owner, netuid, { servingRateLimit: 0, immunityPeriod: 5000 });
    const validator = keypairFromUri('//bench/validator');
    await chain.burnedRegister(owner, netuid, validator.ss58Address);
    await chain.addStake(owner, validator.ss58Address, netuid, 1000n * RAO_PER_TAO);
    const commodity = createStorageCommodity();
    for (let i = 0; i < 6; i++) {
      const ck = keypairFromUri(`//bench/cold/${i}`);
      await chain.faucet(ck.ss58Address, 10_000n * RAO_PER_TAO);
      const hk = keypairFromUri(`//bench/miner/${i}`);
      await chain.burnedRegister(ck, netuid, hk.ss58Address);
      const store = new ShardStore({ dir: join(dir, `m${i}`), capacityBytes: 1024 * MB, maxShardBytes: 8 * MB });
      const m = await startMiner({ chain, netuid, hotkey: hk, commodity, miner: honestMiner(store), axon: { host: '127.0.0.1', port: 0 }, axonOptions: { rateLimit: false }, logger: log });
      stops.push(() => m.stop());
    }
    await chain.produceBlocks(1);
    const db = new MetadataDb(join(dir, 'meta.db'));
    const gw = new Gateway({ db, chain, netuid, hotkey: validator, params: { k: 4, m: 2, chunkSize: 16384 } });
    stops.push(async () => {
      await gw.close();
      db.close();
    });
    const size = 8 * MB;
    const data = randomBytes(size);
    await gw.put(randomBytes(64 * 1024), 'warm-up');
    const src = join(dir, 'src.bin');
    writeFileSync(src, data);
    const copy = best(5, () => copyFileSync(src, join(dir, 'copy.bin')));
    let id = '';
    let putMs = Infinity;
    let getMs = Infinity;
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      id = (await gw.put(data, 'bench')).id;
      putMs = Math.min(putMs, performance.now() - t);
      t = performance.now();
      const back = await gw.get(id);
      getMs = Math.min(getMs, performance.now() - t);
      if (createHash('sha256').update(back).digest('hex') !== createHash('sha256').update(data).digest('hex')) throw new Error('get returned other bytes');
    }
    line('plain file copy, 8 MiB', `${((8 / copy) * 1000).toFixed(0)} MB/s`);
    line('put 8 MiB via gateway, k=4 m=2, 6 miners (vs copy)', `${((8 / putMs) * 1000).toFixed(1)} MB/s`, copy / putMs);
    line('get 8 MiB via gateway (vs copy)', `${((8 / getMs) * 1000).toFixed(1)} MB/s`, copy / getMs);
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    await chain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function metadata(): void {
  const dir = mkdtempSync(join(tmpdir(), 'storage-bench-db-'));
  try {
    const db = new MetadataDb(join(dir, 'meta.db'));
    const t0 = performance.now();
    const objects = 100_000;
    for (let batch = 0; batch < objects; batch += 10_000)
      db.transaction(() => {
        for (let o = batch; o < batch + 10_000; o++) {
          const id = `o${o}`;
          db.addObject({ id, name: id, size: 1, k: 8, m: 2, chunkSize: 4096, key: Buffer.alloc(32), sha256: Buffer.alloc(32), kind: 'user', createdAt: o },
            Array.from({ length: 10 }, (_, idx) => ({ objectId: id, idx, hotkey: `hk${(o * 10 + idx) % 256}`, shardHash: Buffer.alloc(32, idx), root: Buffer.alloc(32), size: 1, state: 'live' as const, storedBlock: 0, nextChallengeBlock: o % 5000 })));
        }
      });
    const ins = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 2560; i++) db.dueShard(`hk${i % 256}`, 2500);
    const look = (performance.now() - t1) / 2560;
    line('metadata: 1 000 000 shards inserted', `${((objects * 10) / (ins / 1000)).toFixed(0)} rows/s`);
    line('metadata: due-shard lookup at 1 M shards', `${(look * 1000).toFixed(1)} µs`);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  merkle();
  erasure();
  verify();
  await putGet();
  metadata();
}
