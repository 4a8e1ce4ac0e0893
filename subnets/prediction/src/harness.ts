import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LocalChain, metagraphCallerProvider, RAO_PER_TAO, type Metagraph } from '../../../framework/chain/index.ts';
import { openSqlitePendingStore, type MinerSide } from '../../../framework/commodity/index.ts';
import { Dendrite } from '../../../framework/dendrite/index.ts';
import { startMiner, type MinerHandle } from '../../../framework/miner/index.ts';
import { startValidator, type ValidatorHandle, type ValidatorOptions } from '../../../framework/validator/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../../framework/wallet/index.ts';
import { createPredictionCommodity, type PredictionCommodity, type PredictionConfig } from './commodity.ts';
import { crowdCopier, type CrowdCopier } from './copier.ts';
import { JsonFeedSource } from './feed.ts';
import { constantHalf, marketCopier, randomForecaster, skilled, swarmMember, type Strategy } from './forecasters.ts';
import { predictionMiner, silentMiner } from './miner.ts';
import { MarketSim, type SimConfig } from './sim.ts';
import { httpTapeReader, serveSim, type SimServer } from './sim-server.ts';

/**
 * The adversarial harness shared by the demo and the tests: a LocalChain subnet, the simulated market
 * behind real HTTP, validators reading it through the JSON feed adapter, and miners — skilled
 * forecasters, a market copier, a last-moment crowd copier, a constant 0.5, a random one, an
 * extreme-probability sybil swarm and one that never answers — all on 127.0.0.1.
 */
export type Role = 'skilled' | 'market copier' | 'crowd copier' | 'constant 0.5' | 'random' | 'swarm' | 'silent';

export interface Participant {
  label: string;
  role: Role | 'owner' | 'validator';
  hotkey: Keypair;
}

export interface HarnessOptions {
  seed: string;
  stateDir: string;
  logger: Logger;
  blockMs?: number;
  tempo?: number;
  validators?: number;
  skilled?: number;
  swarm?: number;
  /** Roles to leave out (e.g. a small soak). */
  without?: Role[];
  sim?: Partial<SimConfig>;
  commodity?: Partial<PredictionConfig>;
  validatorOptions?: Partial<ValidatorOptions>;
  /** false: register and stake the validators but leave running them to the caller (e.g. as child processes). */
  startValidators?: boolean;
}

export interface Harness {
  chain: LocalChain;
  netuid: number;
  sim: MarketSim;
  simServer: SimServer;
  people: Participant[];
  validators: ValidatorHandle[];
  copier: CrowdCopier | null;
  commodities: PredictionCommodity[];
  /** Stop validator i and start it again on the same state directory (a restart). */
  restartValidator(i: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(o: HarnessOptions): Promise<Harness> {
  await cryptoReady();
  const chain = await LocalChain.create({ blockTimeMs: o.blockMs ?? 200 });
  const sim = new MarketSim({ seed: o.seed, t0: Date.now(), ...o.sim });
  const simServer = await serveSim(sim);
  const owner = keypairFromUri('//Alice');
  const people: Participant[] = [{ label: 'owner', role: 'owner', hotkey: keypairFromUri(`//${o.seed}/owner`) }];
  for (let i = 0; i < (o.validators ?? 2); i++) people.push({ label: `validator ${'AB'[i] ?? i}`, role: 'validator', hotkey: keypairFromUri(`//${o.seed}/validator/${i}`) });
  const roles: Array<[Role, number]> = [
    ['skilled', o.skilled ?? 2], ['market copier', 1], ['crowd copier', 1], ['constant 0.5', 1], ['random', 1], ['swarm', o.swarm ?? 6], ['silent', 1],
  ];
  for (const [role, count] of roles) {
    if (o.without?.includes(role)) continue;
    for (let i = 0; i < count; i++) people.push({ label: count > 1 ? `${role} ${i + 1}` : role, role, hotkey: keypairFromUri(`//${o.seed}/${role}/${i}`) });
  }

  const netuid = await chain.registerNetwork(owner, people[0]!.hotkey.ss58Address);
  await chain.setHyperparameters(owner, netuid, { tempo: o.tempo ?? 10, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false, immunityPeriod: 5000, maxAllowedUids: 64 });
  const validatorPeople = people.filter((p) => p.role === 'validator');
  for (const [i, v] of validatorPeople.entries()) {
    const cold = keypairFromUri(`//${o.seed}/validator-cold/${i}`);
    await chain.faucet(cold.ss58Address, 2000n * RAO_PER_TAO);
    await chain.burnedRegister(cold, netuid, v.hotkey.ss58Address);
    await chain.addStake(cold, v.hotkey.ss58Address, netuid, BigInt(1000 - 300 * i) * RAO_PER_TAO);
  }
  const minerCold = keypairFromUri('//Dave');
  const minerPeople = people.filter((p) => p.role !== 'owner' && p.role !== 'validator');
  for (const m of minerPeople) await chain.burnedRegister(minerCold, netuid, m.hotkey.ss58Address);

  const minerCommodity = createPredictionCommodity({ timeoutMs: 1500 });
  const tapes = httpTapeReader(simServer.url);
  const miners: MinerHandle[] = [];
  const dendrites: Dendrite[] = [];
  let copier: CrowdCopier | null = null;
  let swarmIndex = 0;
  for (const m of minerPeople) {
    const hk = m.hotkey.ss58Address;
    let side: MinerSide<Record<string, unknown>, Record<string, unknown>>;
    const wrap = (s: Strategy) => predictionMiner(hk, s);
    if (m.role === 'crowd copier') {
      const dendrite = new Dendrite({ keypair: m.hotkey });
      dendrites.push(dendrite);
      copier = crowdCopier({ hotkey: hk, dendrite, synapse: minerCommodity.synapse, peers: () => peersByIncentive(chain, netuid, validatorPeople) });
      side = copier as never;
    } else if (m.role === 'silent') side = silentMiner() as never;
    else {
      const strategy: Strategy =
        m.role === 'skilled' ? skilled(tapes, `skilled/${m.label}`)
        : m.role === 'market copier' ? marketCopier()
        : m.role === 'constant 0.5' ? constantHalf()
        : m.role === 'random' ? randomForecaster(`random/${o.seed}`)
        : swarmMember(swarmIndex++);
      side = wrap(strategy) as never;
    }
    // one metagraph read every few blocks per miner, not every block: 13 miners share two cores with everything else
    const callers = await metagraphCallerProvider(chain, netuid, { refreshEveryBlocks: 5 });
    miners.push(await startMiner({ chain, netuid, hotkey: m.hotkey, commodity: minerCommodity, miner: side, callers, logger: o.logger, axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' } }));
  }

  const commodities: PredictionCommodity[] = [];
  const validators: ValidatorHandle[] = [];
  const startOne = async (i: number) => {
    const v = validatorPeople[i]!;
    // each validator reads the market through the JSON feed adapter over HTTP, like an operator's feed
    const source = new JsonFeedSource({ location: `${simServer.url}/feed.json`, refreshMs: 500, onWarn: (m) => o.logger.warn(m) });
    const commodity = createPredictionCommodity({ source, signer: v.hotkey, timeoutMs: 1500, burnUid: 0, retryMs: 1000, settleMs: 700, ...o.commodity });
    commodities[i] = commodity;
    const statePath = join(o.stateDir, `validator-${i}`);
    mkdirSync(statePath, { recursive: true });
    // SQLite pending store: a completion is one row, not a rewrite of the whole queue (see README)
    const pendingStore = await openSqlitePendingStore(join(statePath, 'pending.sqlite'));
    validators[i] = await startValidator({
      chain, netuid, hotkey: v.hotkey, commodity, statePath,
      options: { resyncEveryBlocks: 5, roundIntervalMs: 500, concurrency: 3, logger: o.logger, pendingStore, ...o.validatorOptions },
    });
  };
  if (o.startValidators !== false) for (let i = 0; i < validatorPeople.length; i++) await startOne(i);

  return {
    chain, netuid, sim, simServer, people, validators, copier, commodities,
    async restartValidator(i) {
      await validators[i]?.stop();
      await startOne(i);
    },
    async stop() {
      await Promise.all(validators.map((v) => v.stop()));
      await Promise.all(miners.map((m) => m.stop()));
      await Promise.all(dendrites.map((d) => d.close()));
      await simServer.close();
      await chain.close();
    },
  };
}

async function peersByIncentive(chain: LocalChain, netuid: number, validators: Participant[]) {
  const mg: Metagraph = await chain.getMetagraph(netuid);
  const skip = new Set(validators.map((v) => v.hotkey.ss58Address));
  return mg.hotkeys
    .map((hotkey, uid) => ({ hotkey, uid, ip: mg.axons[uid]?.ip ?? '', port: mg.axons[uid]?.port ?? 0, inc: mg.incentive[uid] ?? 0 }))
    .filter((p) => p.uid !== 0 && !skip.has(p.hotkey) && p.port > 0)
    .sort((a, b) => b.inc - a.inc)
    .map(({ ip, port, hotkey }) => ({ ip, port, hotkey }));
}

/** Incentive shares by role from a metagraph (miners only: the owner's burn share is left out). */
export function incentiveByRole(mg: Metagraph, people: Participant[]): { total: number; rows: Array<{ p: Participant; uid: number; incentive: number }> } {
  const rows = people
    .filter((p) => p.role !== 'owner' && p.role !== 'validator')
    .map((p) => {
      const uid = mg.hotkeys.indexOf(p.hotkey.ss58Address);
      return { p, uid, incentive: uid >= 0 ? (mg.incentive[uid] ?? 0) : 0 };
    });
  return { total: rows.reduce((a, r) => a + r.incentive, 0), rows };
}
