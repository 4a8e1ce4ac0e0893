import { renderTable } from '../util/table.ts';
import { renderSvgChart, type ChartPanel } from './svg-chart.ts';
import type { Mode, SimulationResult } from './types.ts';

export const MODE_TITLES: Record<Mode, string> = {
  yuma2: 'Yuma 2 (original)',
  yuma3: 'Yuma 3',
  'yuma3-liquid': 'Yuma 3 + liquid alpha',
};

const stakers = (r: SimulationResult) => r.participants.filter((p) => p.role !== 'miner');
const miners = (r: SimulationResult) => r.participants.filter((p) => p.role === 'miner');

/** Rows of pre-formatted cells under a header, through the shared terminal table renderer. */
function table(header: string[], rows: string[][]): string {
  return renderTable(
    rows,
    header.map((h, c) => ({ header: h, value: (r: string[]) => r[c], align: c === 0 && h !== 'epoch' ? 'left' : 'right' }) as const),
  );
}

const f3 = (x: number) => x.toFixed(3);

/** Per-epoch tables of one run: dividends, incentive and stored bonds (u16/65535). */
export function formatRunTables(r: SimulationResult): string {
  const vs = stakers(r);
  const ms = miners(r);
  const parts: string[] = [`== ${r.scenario} · ${MODE_TITLES[r.mode]} · ${r.epochs} epochs ==`];
  parts.push('dividends (validators; share of validator emission)');
  parts.push(table(['epoch', ...vs.map((p) => p.name)], r.perEpoch.map((e) => [String(e.epoch), ...vs.map((p) => f3(e.dividends[p.uid]))])));
  parts.push('', 'incentive (miners; share of miner emission)');
  parts.push(table(['epoch', ...ms.map((p) => p.name)], r.perEpoch.map((e) => [String(e.epoch), ...ms.map((p) => f3(e.incentive[p.uid]))])));
  const pairs = vs.flatMap((v) => ms.map((m) => [v, m] as const)).filter(([v, m]) => r.perEpoch.some((e) => e.bonds[v.uid][m.uid] > 0));
  parts.push('', 'bonds (validator→miner, as stored: u16/65535)');
  if (pairs.length === 0) parts.push('(no bonds)');
  else {
    parts.push(
      table(
        ['epoch', ...pairs.map(([v, m]) => `${v.name}→${m.name}`)],
        r.perEpoch.map((e) => [String(e.epoch), ...pairs.map(([v, m]) => f3(e.bonds[v.uid][m.uid]))]),
      ),
    );
  }
  return parts.join('\n') + '\n';
}

/**
 * One row per participant, one column per mode: dividend per unit of stake for validators (1.00 =
 * exactly its stake share), mean incentive for miners.
 */
export function formatSummary(results: SimulationResult[]): string {
  if (results.length === 0) return '';
  const first = results[0];
  const header = ['participant', 'role', 'metric', ...results.map((r) => MODE_TITLES[r.mode])];
  const rows = first.participants.map((p) => {
    const staker = p.role !== 'miner';
    const cells = results.map((r) => {
      const s = r.summary.find((x) => x.uid === p.uid)!;
      return staker ? s.dividendPerStake.toFixed(4) : (s.totalIncentive / r.epochs).toFixed(4);
    });
    return [p.name, p.role, staker ? 'dividend/stake' : 'mean incentive', ...cells];
  });
  return `summary: ${first.scenario}, ${first.epochs} epochs (dividend/stake 1.0000 = earns exactly its stake share)\n${table(header, rows)}\n`;
}

/** JSON-safe copy of results (bigint → decimal string). */
export function resultsToJson(results: SimulationResult[]): string {
  return JSON.stringify(results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}

export type ChartMetric = 'dividends' | 'incentive';

/** One SVG per metric, one panel per mode (side by side), one line per participant. */
export function renderMetricChart(results: SimulationResult[], metric: ChartMetric): string {
  const panels: ChartPanel[] = results.map((r) => ({
    title: MODE_TITLES[r.mode],
    series: (metric === 'dividends' ? stakers(r) : miners(r)).map((p) => ({
      name: p.name,
      values: r.perEpoch.map((e) => (metric === 'dividends' ? e.dividends[p.uid] : e.incentive[p.uid])),
    })),
  }));
  const scenario = results[0]?.scenario ?? '';
  return renderSvgChart({
    title: `${scenario}: ${metric === 'dividends' ? 'validator dividends' : 'miner incentive'} per epoch`,
    panels,
    xLabel: 'epoch',
    yLabel: metric,
    yMax: 1,
  });
}

/** File-name-safe form of a scenario name. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'scenario';
}
