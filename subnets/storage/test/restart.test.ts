import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalChain, RAO_PER_TAO } from '../../../framework/chain/index.ts';
import type { MinerSide } from '../../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../../framework/miner/index.ts';
import { startValidator, type ValidatorHandle } from '../../../framework/validator/index.ts';
import { cryptoReady, keypairFromUri } from '../../../framework/wallet/index.ts';
import { ackOnly } from '../src/adversaries.ts';
import { createStorageCommodity } from '../src/commodity.ts';
import { Gateway } from '../src/gateway.ts';
import { MetadataDb } from '../src/metadata.ts';
import { honestMiner } from '../src/miner.ts';
import type { StorageQuery, StorageResponse } from '../src/protocol.ts';
import { ShardStore } from '../src/shard-store.ts';

// Challenge schedules live in the validator's database, not in memory: a validator that stops with
// challenges still ahead of it and comes back later must issue them (and catch a cheater with them).
const dir = mkdtempSync(join(tmpdir(), 'storage-restart-'));
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const log = pino({ level: 'silent' });
const params = { k: 2, m: 3, chunkSize: 4096, challengeEveryBlocks: 20, baseLatencyMs: 3000 };

describe('storage validator restart', () => {
  it('challenges scheduled before a restart are issued after it, from the database; the cheater is still caught', async () => {
    await cryptoReady();
    const chain = await LocalChain.create({ blockTimeMs: 0 });
    cleanups.push(() => chain.close());
    const owner = keypairFromUri('//Alice');
    const netuid = await chain.registerNetwork(owner, keypairFromUri('//restart/owner').ss58Address);
    await chain.setHyperparameters(owner, netuid, { servingRateLimit: 0, immunityPeriod: 5000, weightsSetRateLimit: 1, commitRevealWeightsEnabled: false });
    const vkey = keypairFromUri('//restart/validator');
    await chain.burnedRegister(owner, netuid, vkey.ss58Address);
    await chain.addStake(owner, vkey.ss58Address, netuid, 1000n * RAO_PER_TAO);
    const forMiners = createStorageCommodity();
    const hotkeys: Record<string, string> = {};
    const add = async (label: string, side: MinerSide<StorageQuery, StorageResponse>) => {
      const ck = keypairFromUri(`//restart/cold/${label}`);
      await chain.faucet(ck.ss58Address, 1000n * RAO_PER_TAO);
      const hk = keypairFromUri(`//restart/miner/${label}`);
      await chain.burnedRegister(ck, netuid, hk.ss58Address);
      const m: MinerHandle = await startMiner({ chain, netuid, hotkey: hk, commodity: forMiners, miner: side, axon: { host: '127.0.0.1', port: 0 }, axonOptions: { rateLimit: false }, logger: log });
      cleanups.push(() => m.stop());
      hotkeys[label] = hk.ss58Address;
    };
    for (let i = 0; i < 4; i++) await add(`honest-${i}`, honestMiner(new ShardStore({ dir: join(dir, `m${i}`), capacityBytes: 64 << 20, maxShardBytes: 4 << 20 })));
    await add('ack-only', ackOnly());
    await chain.produceBlocks(1);

    const dbPath = join(dir, 'validator', 'metadata.db');
    const statePath = join(dir, 'validator');
    const open = () => {
      const db = new MetadataDb(dbPath);
      const gateway = new Gateway({ db, chain, netuid, hotkey: vkey, params, log });
      const commodity = createStorageCommodity({ gateway, probeEveryRounds: 0, retrievalEveryRounds: 0, repairPerRound: 0, log });
      return { db, gateway, commodity };
    };
    const start = (c: ReturnType<typeof open>) => startValidator({ chain, netuid, hotkey: vkey, commodity: c.commodity, statePath, options: { roundIntervalMs: 50, resyncEveryBlocks: 1, logger: log } });

    // --- first life: objects stored, due dates spread over the next 20 blocks, a few blocks run ---
    let life = open();
    for (let i = 0; i < 4; i++) await life.gateway.put(randomBytes(20_000 + i * 1000), `obj-${i}`);
    const all = () => life.db.objects('user').flatMap((o) => life.db.shards(o.id));
    expect(all().length).toBe(20);
    let v: ValidatorHandle = await start(life);
    for (let i = 0; i < 3; i++) {
      await chain.produceBlocks(1);
      await new Promise((r) => setTimeout(r, 300));
    }
    await v.stop();
    const stopBlock = (await chain.getBlock()).number;
    const scoredBefore = Object.keys(v.state.scores()).length;
    const ahead = all().filter((s) => s.state === 'live' && s.nextChallengeBlock > stopBlock);
    await life.gateway.close();
    life.db.close();
    expect(ahead.length, 'challenges still scheduled when the validator stops').toBeGreaterThanOrEqual(8);
    expect(scoredBefore, 'the first life scored someone').toBeGreaterThan(0);

    // --- down for 25 blocks: every scheduled challenge falls due meanwhile ---
    await chain.produceBlocks(25);
    const restartBlock = (await chain.getBlock()).number;

    // --- second life: a new process would open the same files ---
    life = open();
    v = await start(life);
    cleanups.push(() => v.stop());
    expect(Object.keys(v.state.scores()).length, 'miner records survive the restart').toBe(scoredBefore);
    const settled = () => {
      const rows = ahead.map((s) => life.db.shard(s.id)!);
      return rows.every((s) => (s.hotkey === hotkeys['ack-only'] ? s.state === 'lost' : s.lastOkBlock !== null && s.lastOkBlock >= restartBlock));
    };
    const deadline = Date.now() + 90_000;
    while (!settled() && Date.now() < deadline) {
      await chain.produceBlocks(1);
      await new Promise((r) => setTimeout(r, 250));
    }
    const rows = ahead.map((s) => life.db.shard(s.id)!);
    const honest = rows.filter((s) => s.hotkey !== hotkeys['ack-only']);
    const cheater = rows.filter((s) => s.hotkey === hotkeys['ack-only']);
    console.log(`restart: ${ahead.length} challenges pending at block ${stopBlock}; after restart at ${restartBlock}: ${honest.filter((s) => (s.lastOkBlock ?? -1) >= restartBlock).length}/${honest.length} honest shards passed, ${cheater.filter((s) => s.state === 'lost').length}/${cheater.length} of the cheater's declared lost`);
    expect(honest.length).toBeGreaterThan(0);
    expect(cheater.length).toBeGreaterThan(0);
    for (const s of honest) expect(s.lastOkBlock, `honest shard ${s.id}`).toBeGreaterThanOrEqual(restartBlock);
    for (const s of cheater) expect(s.state, `ack-only shard ${s.id}`).toBe('lost');
    const scores = v.state.scores();
    expect(scores[hotkeys['ack-only']] ?? 0).toBe(0);
    for (let i = 0; i < 4; i++) expect(scores[hotkeys[`honest-${i}`]], `honest-${i}`).toBeGreaterThan(0);
    await v.stop();
    await life.gateway.close();
    life.db.close();
  }, 150_000);
});
