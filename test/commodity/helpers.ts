import type { AxonInfo, Metagraph } from '../../framework/chain/types.ts';

/** A metagraph snapshot for unit tests (not a chain mock: commodity code only reads these arrays). */
export function makeMetagraph(n: number, opts: { serving?: (uid: number) => boolean; validators?: number[]; stake?: bigint } = {}): Metagraph {
  const axon = (uid: number): AxonInfo | null =>
    (opts.serving ?? (() => true))(uid)
      ? { block: 1, version: 1, ip: '127.0.0.1', port: 10000 + uid, ipType: 4, protocol: 4, placeholder1: 0, placeholder2: 0 }
      : null;
  const uids = [...Array(n).keys()];
  return {
    netuid: 1,
    block: 10,
    n,
    ownerHotkey: null,
    hotkeys: uids.map((u) => `hk${u}`),
    coldkeys: uids.map((u) => `ck${u}`),
    stake: uids.map((u) => ((opts.validators ?? []).includes(u) ? (opts.stake ?? 10_000n * 10n ** 9n) : 0n)),
    validatorPermit: uids.map((u) => (opts.validators ?? []).includes(u)),
    active: uids.map(() => true),
    lastUpdate: uids.map(() => 0),
    blockAtRegistration: uids.map(() => 0),
    axons: uids.map(axon),
    incentive: uids.map(() => 0),
    dividends: uids.map(() => 0),
    consensus: uids.map(() => 0),
    validatorTrust: uids.map(() => 0),
    emission: uids.map(() => 0n),
  };
}
