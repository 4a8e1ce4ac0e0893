import type { Chain, Metagraph, SubnetHyperparameters } from '../chain/types.ts';
import { raoToTao, u16ToUnit } from './units.ts';

/** What the explorer's pages show, computed from chain reads. JSON-safe (bigints as strings). */

export interface SubnetSummary {
  netuid: number;
  n: number;
  maxUids: number;
  tempo: number;
  ownerHotkey: string | null;
  stakeTao: number;
  emissionTao: number;
  validators: number;
}

export interface NeuronRow {
  uid: number;
  hotkey: string;
  coldkey: string;
  stakeTao: number;
  stakeRao: string;
  validatorPermit: boolean;
  active: boolean;
  incentive: number;
  dividends: number;
  consensus: number;
  trust: number;
  emissionTao: number;
  axon: string | null;
  lastUpdate: number;
  updatedBlocksAgo: number;
  registeredAt: number;
}

export interface SubnetView {
  netuid: number;
  block: number;
  hyperparameters: Record<string, number | boolean | string>;
  neurons: NeuronRow[];
}

export interface WeightsView {
  netuid: number;
  block: number;
  n: number;
  /** One row per uid that has weights set; values normalised so each row sums to 1. */
  rows: Array<{ uid: number; weights: Array<[number, number]> }>;
}

function sumTao(values: bigint[]): number {
  return raoToTao(values.reduce((a, b) => a + b, 0n));
}

export function subnetSummary(mg: Metagraph, hp: SubnetHyperparameters): SubnetSummary {
  return {
    netuid: mg.netuid,
    n: mg.n,
    maxUids: hp.maxAllowedUids,
    tempo: hp.tempo,
    ownerHotkey: mg.ownerHotkey,
    stakeTao: sumTao(mg.stake),
    emissionTao: sumTao(mg.emission),
    validators: mg.validatorPermit.filter(Boolean).length,
  };
}

export function subnetView(mg: Metagraph, hp: SubnetHyperparameters): SubnetView {
  const hyperparameters: Record<string, number | boolean | string> = {};
  for (const [k, v] of Object.entries(hp)) hyperparameters[k] = typeof v === 'bigint' ? v.toString() : (v as number | boolean);
  const neurons: NeuronRow[] = mg.hotkeys.map((hotkey, uid) => {
    const axon = mg.axons[uid];
    return {
      uid,
      hotkey,
      coldkey: mg.coldkeys[uid] ?? '',
      stakeTao: raoToTao(mg.stake[uid] ?? 0n),
      stakeRao: String(mg.stake[uid] ?? 0n),
      validatorPermit: mg.validatorPermit[uid] ?? false,
      active: mg.active[uid] ?? false,
      incentive: u16ToUnit(mg.incentive[uid] ?? 0),
      dividends: u16ToUnit(mg.dividends[uid] ?? 0),
      consensus: u16ToUnit(mg.consensus[uid] ?? 0),
      trust: u16ToUnit(mg.validatorTrust[uid] ?? 0),
      emissionTao: raoToTao(mg.emission[uid] ?? 0n),
      axon: axon && axon.port > 0 ? `${axon.ipType === 6 ? `[${axon.ip}]` : axon.ip}:${axon.port}` : null,
      lastUpdate: mg.lastUpdate[uid] ?? 0,
      updatedBlocksAgo: Math.max(0, mg.block - (mg.lastUpdate[uid] ?? 0)),
      registeredAt: mg.blockAtRegistration[uid] ?? 0,
    };
  });
  return { netuid: mg.netuid, block: mg.block, hyperparameters, neurons };
}

/**
 * The weights matrix. Rows are read for validators (permit holders) and uids that have set weights
 * recently; on a real chain that bounds the reads to the validator set instead of every uid.
 */
export async function weightsView(chain: Chain, mg: Metagraph): Promise<WeightsView> {
  const candidates = mg.hotkeys.map((_h, uid) => uid).filter((uid) => mg.validatorPermit[uid] || (mg.lastUpdate[uid] ?? 0) > 0);
  const rows: WeightsView['rows'] = [];
  for (const uid of candidates.slice(0, 256)) {
    const row = await chain.getWeights(mg.netuid, uid);
    const total = row.reduce((a, [, v]) => a + v, 0);
    if (total === 0) continue;
    rows.push({ uid, weights: row.map(([dest, v]) => [dest, v / total]) });
  }
  return { netuid: mg.netuid, block: mg.block, n: mg.n, rows };
}
