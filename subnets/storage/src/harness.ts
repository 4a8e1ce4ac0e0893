import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { LocalChain, RAO_PER_TAO } from '../../../framework/chain/index.ts';
import type { Metagraph } from '../../../framework/chain/types.ts';
import type { MinerSide } from '../../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../../framework/miner/index.ts';
import { startValidator, type ValidatorHandle } from '../../../framework/validator/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../../framework/wallet/index.ts';
import { ackOnly, ColdStorage, dropper, fetcher, hashOnly, replayer, SybilOperator } from './adversaries.ts';
import { createStorageCommodity } from './commodity.ts';
import { Gateway, type GatewayParams } from './gateway.ts';
import { MetadataDb } from './metadata.ts';
import { honestMiner } from './miner.ts';
import type { StorageQuery, StorageResponse } from './protocol.ts';
import { ShardStore } from './shard-store.ts';

/**
 * The adversarial scenario shared by the test and the demo: a LocalChain, a validator-gateway, honest
 * miners, user objects put while only honest miners serve, then six cheating strategies join and one
 * honest miner goes offline (churn). Real axons and dendrites over 127.0.0.1; incentive read from the
 * chain after Yuma epochs.
 */
export type Role = 'honest' | 'dropper' | 'hash-only' | 'fetcher' | 'sybil' | 'replayer' | 'ack-only';

export interface HarnessOptions {
  honest?: number;
  userObjects?: number;
  epochs?: number;
  /**
   * Rounds per block. The harness produces blocks itself, one per `roundsPerBlock` validator rounds, so an
   * epoch holds the same evidence (challenges per miner) on a loaded machine as on an idle one.
   */
  roundsPerBlock?: number;
  tempo?: number;
  maxSeconds?: number;
  dropFraction?: number;
  sybilHotkeys?: number;
  params?: Partial<GatewayParams>;
  onProgress?: (line: string) => void;
  log?: Logger;
}

export interface MinerRow {
  label: string;
  role: Role;
  hotkey: string;
  uid: number;
  incentive: number;
  score: number | undefined;
  /** Shards acknowledged, declared lost, and bytes verified at the end (from the validator's metadata). */
  acked: number;
  lost: number;
  verifiedBytes: number;
}

export interface HarnessResult {
  rows: MinerRow[];
  honestShare: number;
  honestMean: number;
  userObjects: number;
  intact: number;
  epochs: number;
  seconds: number;
  repaired: { lostShards: number; liveShards: number };
}

export async function runStorageHarness(o: HarnessOptions = {}): Promise<HarnessResult> {
  await cryptoReady();
  const started = Date.now();
  const log = o.log ?? pino({ level: 'silent' });
  const say = o.onProgress ?? (() => {});
  const honestN = o.honest ?? 6;
  const tempo = o.tempo ?? 10;
  const epochsWanted = o.epochs ?? 10;
  const chunkSize = o.params?.chunkSize ?? 4096;
  const params: Partial<GatewayParams> = { k: 4, m: 2, chunkSize, challengeEveryBlocks: 4, baseLatencyMs: 1500, expectedBandwidth: 20 * 1024 * 1024, ...o.params };
  const dir = mkdtempSync(join(tmpdir(), 'storage-harness-'));
  const chain = await LocalChain.create({ blockTimeMs: 0 });
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const owner = keypairFromUri('//Alice');
    const netuid = await chain.registerNetwork(owner, keypairFromUri('//storage/owner').ss58Address);
    await chain.setHyperparameters(owner, netuid, { tempo, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false, immunityPeriod: 5000, servingRateLimit: 0 });
    const validator = keypairFromUri('//storage/validator');
    await chain.burnedRegister(owner, netuid, validator.ss58Address);
    await chain.addStake(owner, validator.ss58Address, netuid, 1000n * RAO_PER_TAO);

    const coldkey = async (name: string): Promise<Keypair> => {
      const ck = keypairFromUri(`//storage/cold/${name}`);
      await chain.faucet(ck.ss58Address, 10_000n * RAO_PER_TAO);
      return ck;
    };
    const miners: Array<{ label: string; role: Role; hotkey: Keypair; handle: MinerHandle }> = [];
    const axonOptions = { rateLimit: false as const, admission: { maxConcurrent: 16, maxQueue: 256 } };
    const commodityForMiners = createStorageCommodity();
    const addMiner = async (label: string, role: Role, side: MinerSide<StorageQuery, StorageResponse>, ck: Keypair) => {
      const hotkey = keypairFromUri(`//storage/miner/${label}`);
      await chain.burnedRegister(ck, netuid, hotkey.ss58Address);
      const handle = await startMiner({ chain, netuid, hotkey, commodity: commodityForMiners, miner: side, axon: { host: '127.0.0.1', port: 0 }, axonOptions, logger: log });
      miners.push({ label, role, hotkey, handle });
      cleanups.push(() => handle.stop());
    };
    for (let i = 0; i < honestN; i++) {
      const store = new ShardStore({ dir: join(dir, `miner-${i}`), capacityBytes: 512 * 1024 * 1024, maxShardBytes: 8 * 1024 * 1024 });
      await addMiner(`honest-${i + 1}`, 'honest', honestMiner(store), await coldkey(`honest-${i}`));
    }
    await chain.produceBlocks(1);

    const db = new MetadataDb(join(dir, 'validator', 'metadata.db'));
    cleanups.push(() => db.close());
    const gateway = new Gateway({ db, chain, netuid, hotkey: validator, params, log });
    cleanups.push(() => gateway.close());
    const commodity = createStorageCommodity({ gateway, chunksPerChallenge: 8, probeEveryRounds: 2, probeBytes: 128 * 1024, maxProbes: 60, retrievalEveryRounds: 3, repairPerRound: 3, log });

    // --- user objects, put while only honest miners serve ---
    const objects: Array<{ id: string; sha: string; size: number }> = [];
    for (let i = 0; i < (o.userObjects ?? 12); i++) {
      const data = randomBytes(1000 + ((i * 37_911) % 300_000));
      const put = await gateway.put(data, `user-${i}.bin`);
      objects.push({ id: put.id, sha: createHash('sha256').update(data).digest('hex'), size: data.length });
    }
    say(`put ${objects.length} user objects (${objects.reduce((a, b) => a + b.size, 0)} bytes) on ${honestN} honest miners`);

    const v: ValidatorHandle = await startValidator({
      chain, netuid, hotkey: validator, commodity, statePath: join(dir, 'validator'),
      // several rounds in flight: a cheater that sits on a challenge until its timeout does not stall the others
      options: { resyncEveryBlocks: 2, roundIntervalMs: 120, concurrency: 3, logger: log },
    });
    cleanups.push(() => v.stop());

    // --- the cheaters join ---
    const chunk = params.chunkSize ?? chunkSize;
    await addMiner('dropper', 'dropper', dropper(o.dropFraction ?? 0.5, chunk), await coldkey('dropper'));
    await addMiner('hash-only', 'hash-only', hashOnly(chunk), await coldkey('hash-only'));
    const cold = new ColdStorage(8 * 1024);
    await cold.start();
    cleanups.push(() => cold.stop());
    await addMiner('fetcher', 'fetcher', fetcher(cold), await coldkey('fetcher'));
    const sybil = new SybilOperator(o.sybilHotkeys ?? 3);
    const sybilCold = await coldkey('sybil');
    for (let i = 0; i < sybil.hotkeys; i++) await addMiner(`sybil-${i + 1}`, 'sybil', sybil.side(), sybilCold);
    await addMiner('replayer', 'replayer', replayer(), await coldkey('replayer'));
    await addMiner('ack-only', 'ack-only', ackOnly(), await coldkey('ack-only'));
    say(`${miners.length - honestN} cheating hotkeys joined`);

    // --- run epochs; churn: one honest miner goes offline after a third of them ---
    const firstEpoch = await chain.getEpochIndex(netuid);
    let epochs = 0;
    let churned = false;
    const deadline = started + (o.maxSeconds ?? 100) * 1000;
    const roundsPerBlock = o.roundsPerBlock ?? 1;
    let nextStep = v.state.step + roundsPerBlock;
    while (epochs < epochsWanted && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 15));
      if (v.state.step < nextStep) continue;
      nextStep = v.state.step + roundsPerBlock;
      await chain.produceBlocks(1);
      const e = (await chain.getEpochIndex(netuid)) - firstEpoch;
      if (e !== epochs) {
        epochs = e;
        const st = db.stats();
        say(`epoch ${epochs}/${epochsWanted} · ${((Date.now() - started) / 1000).toFixed(0)} s · shards live ${st.live}/${st.shards} · objects ${st.objects}`);
      }
      if (!churned && epochs >= Math.ceil(epochsWanted / 3)) {
        churned = true;
        const gone = miners.find((m) => m.role === 'honest' && m.label === `honest-${honestN}`)!;
        await gone.handle.stop();
        say(`churn: ${gone.label} went offline; its shards fail their challenges and are repaired elsewhere`);
      }
    }

    // --- results ---
    const mg: Metagraph = await chain.getMetagraph(netuid);
    const scores = v.state.scores();
    const holders = db.holderRecords();
    const verified = db.verifiedBytes();
    const rows: MinerRow[] = miners.map((m) => {
      const uid = mg.hotkeys.indexOf(m.hotkey.ss58Address);
      const h = holders.get(m.hotkey.ss58Address);
      return {
        label: m.label, role: m.role, hotkey: m.hotkey.ss58Address, uid, incentive: (mg.incentive[uid] ?? 0) / 65535, score: scores[m.hotkey.ss58Address],
        acked: h?.acked ?? 0, lost: h?.lost ?? 0, verifiedBytes: verified.get(m.hotkey.ss58Address) ?? 0,
      };
    });
    const total = rows.reduce((a, r) => a + r.incentive, 0);
    const honestRows = rows.filter((r) => r.role === 'honest' && r.label !== `honest-${honestN}`);
    const honestAll = rows.filter((r) => r.role === 'honest').reduce((a, r) => a + r.incentive, 0);
    await v.stop();
    let intact = 0;
    for (const obj of objects) {
      const data = await gateway.get(obj.id).catch(() => null);
      if (data && createHash('sha256').update(data).digest('hex') === obj.sha) intact++;
    }
    const st = db.stats();
    return {
      rows,
      honestShare: total > 0 ? honestAll / total : 0,
      honestMean: honestRows.reduce((a, r) => a + r.incentive, 0) / Math.max(1, honestRows.length),
      userObjects: objects.length,
      intact,
      epochs,
      seconds: (Date.now() - started) / 1000,
      repaired: { lostShards: st.shards - st.live, liveShards: st.live },
    };
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
    await chain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The incentive table as printed by the test and the demo. */
export function formatHarness(r: HarnessResult): string {
  const lines = [
    `${'miner'.padEnd(10)} ${'role'.padEnd(10)} ${'uid'.padStart(3)} ${'incentive'.padStart(9)} ${'÷ honest mean'.padStart(13)} ${'score'.padStart(7)} ${'acked'.padStart(5)} ${'lost'.padStart(5)} ${'verified KiB'.padStart(12)}`,
    ...r.rows
      .slice()
      .sort((a, b) => b.incentive - a.incentive)
      .map((x) => `${x.label.padEnd(10)} ${x.role.padEnd(10)} ${String(x.uid).padStart(3)} ${x.incentive.toFixed(4).padStart(9)} ${(r.honestMean > 0 ? x.incentive / r.honestMean : 0).toFixed(3).padStart(13)} ${(x.score ?? Number.NaN).toFixed(3).padStart(7)} ${String(x.acked).padStart(5)} ${String(x.lost).padStart(5)} ${(x.verifiedBytes / 1024).toFixed(0).padStart(12)}`),
    `honest share of miner incentive: ${(100 * r.honestShare).toFixed(1)} % (target ≥ 90 %)`,
    `user objects retrieved intact: ${r.intact}/${r.userObjects} (put before the cheaters joined and before the churn)`,
    `shards at the end: ${r.repaired.liveShards} live, ${r.repaired.lostShards} lost awaiting repair · ${r.epochs} epochs in ${r.seconds.toFixed(1)} s`,
  ];
  return lines.join('\n');
}
