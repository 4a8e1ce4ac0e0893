/**
 * `NeuronInfoRuntimeApi.get_neurons_lite` results → per-uid columns. Spec 381 declares the result type
 * in its metadata; specs 185/218 return an opaque `Vec<u8>` holding a SCALE `Vec<NeuronInfoLite>` (the
 * RPC result is then length-prefixed twice). For those we rebuild the struct from the runtime's *own*
 * registered `AxonInfo` / `PrometheusInfo` types (their field order differs between 185 and 218).
 */
import type { Codec, Registry } from '@polkadot/types/types';
import type { AxonInfo } from '../types.ts';
import { u128ToIp } from './ip.ts';

export interface NeuronLite {
  uid: number;
  hotkey: string;
  coldkey: string;
  active: boolean;
  axon: AxonInfo | null;
  stake: bigint;
  emission: bigint;
  incentive: number;
  consensus: number;
  trust: number;
  validatorTrust: number;
  dividends: number;
  lastUpdate: number;
  validatorPermit: boolean;
}

const OPAQUE_TYPE = 'SubnetkitOpaqueNeuronInfoLite';

/** Register the opaque-result struct once per registry, from the storage types of `Axons`/`Prometheus`. */
export function registerOpaqueNeuronType(registry: Registry, axonTypeId: number, prometheusTypeId: number): string {
  if (!registry.hasType(OPAQUE_TYPE)) {
    registry.register({
      [OPAQUE_TYPE]: {
        hotkey: 'AccountId32',
        coldkey: 'AccountId32',
        uid: 'Compact<u16>',
        netuid: 'Compact<u16>',
        active: 'bool',
        axonInfo: registry.createLookupType(axonTypeId),
        prometheusInfo: registry.createLookupType(prometheusTypeId),
        stake: 'Vec<(AccountId32, Compact<u64>)>',
        rank: 'Compact<u16>',
        emission: 'Compact<u64>',
        incentive: 'Compact<u16>',
        consensus: 'Compact<u16>',
        trust: 'Compact<u16>',
        validatorTrust: 'Compact<u16>',
        dividends: 'Compact<u16>',
        lastUpdate: 'Compact<u64>',
        validatorPermit: 'bool',
        pruningScore: 'Compact<u16>',
      },
    });
  }
  return `Vec<${OPAQUE_TYPE}>`;
}

type StructLike = Codec & { get(name: string): Codec | undefined };

function num(c: Codec | undefined): bigint {
  if (!c) return 0n;
  const v = c as Codec & { toBigInt?: () => bigint; unwrap?: () => Codec };
  if (typeof v.toBigInt === 'function') return v.toBigInt();
  // newtypes such as AlphaCurrency(u64) may decode as a one-field struct/tuple
  const p = c.toPrimitive();
  if (typeof p === 'number' || typeof p === 'string') return BigInt(p);
  if (Array.isArray(p) && p.length === 1) return BigInt(p[0] as number);
  return 0n;
}

function bool(c: Codec | undefined): boolean {
  return c ? c.toPrimitive() === true : false;
}

function axonOf(c: Codec | undefined): AxonInfo | null {
  if (!c) return null;
  const s = c as StructLike;
  const ipType = Number(num(s.get('ipType')));
  const ip = num(s.get('ip'));
  const block = Number(num(s.get('block')));
  if (ip === 0n && block === 0) return null;
  return {
    block,
    version: Number(num(s.get('version'))),
    ip: u128ToIp(ip, ipType === 6 ? 6 : 4),
    port: Number(num(s.get('port'))),
    ipType: ipType === 6 ? 6 : 4,
    protocol: Number(num(s.get('protocol'))),
    placeholder1: Number(num(s.get('placeholder1'))),
    placeholder2: Number(num(s.get('placeholder2'))),
  };
}

/** Decode one NeuronInfoLite struct (opaque or typed; polkadot gives both camelCase field names). */
export function neuronFromCodec(c: Codec): NeuronLite {
  const s = c as StructLike;
  let stake = 0n;
  const rows = s.get('stake') as unknown as Iterable<Codec> | undefined;
  for (const row of rows ?? []) stake += num((row as unknown as Codec[])[1]);
  return {
    uid: Number(num(s.get('uid'))),
    hotkey: String(s.get('hotkey')?.toString() ?? ''),
    coldkey: String(s.get('coldkey')?.toString() ?? ''),
    active: bool(s.get('active')),
    axon: axonOf(s.get('axonInfo')),
    stake,
    emission: num(s.get('emission')),
    incentive: Number(num(s.get('incentive'))),
    consensus: Number(num(s.get('consensus'))),
    trust: Number(num(s.get('trust'))),
    validatorTrust: Number(num(s.get('validatorTrust'))),
    dividends: Number(num(s.get('dividends'))),
    lastUpdate: Number(num(s.get('lastUpdate'))),
    validatorPermit: bool(s.get('validatorPermit')),
  };
}

/** Decode a `get_neurons_lite` result: a typed `Vec<…>` or the opaque bytes of one. */
export function decodeNeuronsLite(registry: Registry, result: Codec, opaqueType: string | null): NeuronLite[] {
  // the RPC result is a Vec<u8>; its bytes are, once more, a length-prefixed Vec<u8> of the SCALE list
  const list = opaqueType ? registry.createType(opaqueType, registry.createType('Bytes', result.toU8a(true)).toU8a(true)) : result;
  return [...(list as unknown as Iterable<Codec>)].map(neuronFromCodec);
}
