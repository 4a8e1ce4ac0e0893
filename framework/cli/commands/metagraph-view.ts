import type { Metagraph } from '../../chain/types.ts';
import { renderTable } from '../../util/table.ts';
import { formatTao } from '../config.ts';
import { shortKey } from './shared.ts';

/**
 * One row per neuron. The JSON carries each amount in both units, labelled (`stakeRao` exact, `stakeTao`
 * as the table shows it), proportions as 0..1 next to the stored u16, and `updatedBlocksAgo` as the table.
 */
export function metagraphRows(m: Metagraph) {
  const tao = (rao: bigint) => Number(formatTao(rao));
  return m.hotkeys.map((hotkey, uid) => ({
    uid,
    hotkey,
    coldkey: m.coldkeys[uid]!,
    stakeRao: m.stake[uid]!,
    stakeTao: tao(m.stake[uid]!),
    validatorPermit: m.validatorPermit[uid]!,
    active: m.active[uid]!,
    incentive: m.incentive[uid]! / 65535,
    incentiveU16: m.incentive[uid]!,
    dividends: m.dividends[uid]! / 65535,
    dividendsU16: m.dividends[uid]!,
    consensus: m.consensus[uid]! / 65535,
    consensusU16: m.consensus[uid]!,
    validatorTrust: m.validatorTrust[uid]! / 65535,
    validatorTrustU16: m.validatorTrust[uid]!,
    emissionRao: m.emission[uid]!,
    emissionTao: tao(m.emission[uid]!),
    lastUpdate: m.lastUpdate[uid]!,
    updatedBlocksAgo: m.block - m.lastUpdate[uid]!,
    axon: m.axons[uid] ? `${m.axons[uid]!.ip}:${m.axons[uid]!.port}` : '',
  }));
}

export const neuronCount = (n: number) => (n === 1 ? '1 neuron' : `${n} neurons`);

/** The metagraph table, shared by `subnet metagraph` and its `--watch` mode. */
export function renderMetagraph(m: Metagraph, mechid = 0): string {
  const rows = metagraphRows(m);
  return `subnet ${m.netuid}${mechid ? ` mechanism ${mechid}` : ''} at block ${m.block}: ${neuronCount(m.n)}\n${renderTable(rows, [
    { header: 'uid', value: (r) => r.uid },
    { header: 'hotkey', value: (r) => shortKey(r.hotkey), align: 'left' },
    { header: 'coldkey', value: (r) => shortKey(r.coldkey), align: 'left' },
    { header: 'stake τ', value: (r) => r.stakeTao.toFixed(3) },
    { header: 'vpermit', value: (r) => (r.validatorPermit ? 'yes' : '') },
    { header: 'active', value: (r) => (r.active ? 'yes' : '') },
    { header: 'incentive', value: (r) => r.incentive.toFixed(4) },
    { header: 'dividends', value: (r) => r.dividends.toFixed(4) },
    { header: 'consensus', value: (r) => r.consensus.toFixed(4) },
    { header: 'vtrust', value: (r) => r.validatorTrust.toFixed(4) },
    { header: 'emission τ', value: (r) => r.emissionTao.toFixed(4) },
    { header: 'updated', value: (r) => (r.lastUpdate === 0 ? 'never' : `${r.updatedBlocksAgo} blocks ago`) },
    { header: 'axon', value: (r) => r.axon, align: 'left' },
  ])}`;
}
