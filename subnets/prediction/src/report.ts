import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Metagraph } from '../../../framework/chain/index.ts';
import { predictionMinerState } from './commodity.ts';
import { incentiveByRole, type Participant } from './harness.ts';
import { LEDGER_DEFAULTS, standing, type LedgerConfig, type Standing } from './ledger.ts';

/** One row per miner: what a validator's ledger says about it, and the incentive the chain paid it. */
export interface ReportRow {
  label: string;
  role: string;
  uid: number;
  standing: Standing;
  incentive: number;
  share: number;
}

const stateFile = z.object({ minerState: z.record(z.unknown()) }).passthrough();

/** Read a validator's persisted ledger (its state file) for the report. */
export async function readLedgers(statePath: string): Promise<Map<string, z.infer<typeof predictionMinerState>>> {
  const raw = stateFile.parse(JSON.parse(await readFile(join(statePath, 'validator.json'), 'utf8')));
  const out = new Map<string, z.infer<typeof predictionMinerState>>();
  for (const [hk, v] of Object.entries(raw.minerState)) {
    const s = predictionMinerState.safeParse(v);
    if (s.success) out.set(hk, s.data);
  }
  return out;
}

export function reportRows(mg: Metagraph, people: Participant[], ledgers: Map<string, z.infer<typeof predictionMinerState>>, cfg: LedgerConfig = LEDGER_DEFAULTS): ReportRow[] {
  const { total, rows } = incentiveByRole(mg, people);
  return rows.map(({ p, uid, incentive }) => ({
    label: p.label, role: p.role, uid, incentive, share: total > 0 ? incentive / total : 0,
    standing: standing(ledgers.get(p.hotkey.ss58Address)?.window ?? [], cfg),
  }));
}

export function formatReport(rows: ReportRow[]): string {
  const head = `${'uid'.padStart(4)}  ${'miner'.padEnd(16)} ${'events'.padStart(6)} ${'cover'.padStart(6)} ${'mean skill'.padStart(10)} ${'bound'.padStart(8)}  ${'qualif'.padEnd(6)} ${'incentive share'.padStart(15)}`;
  const lines = rows.map((r) =>
    `${String(r.uid).padStart(4)}  ${r.label.padEnd(16)} ${String(r.standing.n).padStart(6)} ${(100 * r.standing.coverage).toFixed(0).padStart(5)}% ${r.standing.mean.toFixed(4).padStart(10)} ${(Number.isFinite(r.standing.bound) ? r.standing.bound.toFixed(4) : '-').padStart(8)}  ${(r.standing.qualified ? 'yes' : 'no').padEnd(6)} ${(100 * r.share).toFixed(2).padStart(14)}%`,
  );
  return [head, ...lines].join('\n');
}

export interface Verdict {
  skilledShare: number;
  minSkilled: number;
  marketCopier: number;
  crowdCopier: number;
  swarmTotal: number;
  pass: boolean;
  lines: string[];
}

/** The acceptance rules, over chain incentive shares of the miners. */
export function verdict(rows: ReportRow[]): Verdict {
  const sum = (role: string) => rows.filter((r) => r.role === role).reduce((a, r) => a + r.share, 0);
  const skilled = rows.filter((r) => r.role === 'skilled');
  const minSkilled = Math.min(...skilled.map((r) => r.share));
  const v = { skilledShare: sum('skilled'), minSkilled, marketCopier: sum('market copier'), crowdCopier: sum('crowd copier'), swarmTotal: sum('swarm') };
  const checks: Array<[string, boolean]> = [
    [`skilled forecasters hold ${(100 * v.skilledShare).toFixed(1)} % of miner incentive (≥ 80 %)`, v.skilledShare >= 0.8],
    [`market copier earns ${(100 * v.marketCopier).toFixed(2)} % (≤ 10 % of the weakest skilled forecaster's ${(100 * minSkilled).toFixed(1)} %)`, v.marketCopier <= 0.1 * minSkilled],
    [`crowd copier earns ${(100 * v.crowdCopier).toFixed(2)} % (≤ 10 % of the weakest skilled forecaster's)`, v.crowdCopier <= 0.1 * minSkilled],
    [`sybil swarm earns ${(100 * v.swarmTotal).toFixed(2)} % in total (< one skilled forecaster's ${(100 * minSkilled).toFixed(1)} %)`, v.swarmTotal < minSkilled],
  ];
  return { ...v, pass: checks.every(([, ok]) => ok), lines: checks.map(([s, ok]) => `${ok ? 'PASS' : 'FAIL'}  ${s}`) };
}
