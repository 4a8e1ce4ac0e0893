import type { Metagraph } from '../../../framework/chain/types.ts';

/**
 * Pick `n` holders among `candidates` (uids, best first): distinct hotkeys always, distinct coldkeys
 * and IPs where the metagraph allows. Pass 1 takes only new coldkeys on new IPs, pass 2 relaxes the IP,
 * pass 3 the coldkey, so one operator gets a second shard of an object only when nobody else is left.
 */
export function placeShards(mg: Metagraph, candidates: readonly number[], n: number, taken: { hotkeys: Set<string>; coldkeys: Set<string>; ips: Set<string> }): number[] {
  const out: number[] = [];
  const hotkeys = new Set(taken.hotkeys);
  const coldkeys = new Set(taken.coldkeys);
  const ips = new Set(taken.ips);
  const passes: Array<(uid: number) => boolean> = [
    (u) => !coldkeys.has(mg.coldkeys[u]) && !ips.has(mg.axons[u]?.ip ?? ''),
    (u) => !coldkeys.has(mg.coldkeys[u]),
    () => true,
  ];
  for (const ok of passes) {
    for (const u of candidates) {
      if (out.length >= n) return out;
      if (hotkeys.has(mg.hotkeys[u]) || !ok(u)) continue;
      out.push(u);
      hotkeys.add(mg.hotkeys[u]);
      coldkeys.add(mg.coldkeys[u]);
      ips.add(mg.axons[u]?.ip ?? '');
    }
  }
  return out;
}
