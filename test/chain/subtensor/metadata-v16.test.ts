/**
 * Offline against the metadata v16 of spec 381 (mid-2026): the extrinsics the adapter builds encode
 * to the declared types (checked byte by byte), storage keys follow the declared hashers, and typed
 * runtime-API results decode through the adapter's mapper.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, TypeRegistry } from '@polkadot/types';
import { expandMetadata } from '@polkadot/types/metadata';
import type { Codec } from '@polkadot/types/types';
import { compactStripLength, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, decodeAddress, xxhashAsU8a } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { subtensorCalls as calls, decodeNeuronsLite, type CallSource } from '../../../framework/chain/subtensor/index.ts';
import { keypairFromUri } from '../../../framework/wallet/keypair.ts';
import { SHARED_DATA } from '../../support/chopsticks.ts';

const file = join(SHARED_DATA, 'subtensor-metadata-v16.scale');
const registry = new TypeRegistry();
const metadata = new Metadata(registry, readFileSync(file));
registry.setMetadata(metadata);
const decorated = expandMetadata(registry, metadata);
const ctx = { src: decorated.tx as unknown as CallSource<Codec>, specVersion: 381 };
const hot = keypairFromUri('//Alice//hot').ss58Address;
const hotRaw = decodeAddress(hot);

const le = (v: bigint, bytes: number): Uint8Array => {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
};
const u16s = (xs: number[]): Uint8Array => u8aConcat(new Uint8Array([xs.length << 2]), ...xs.map((x) => le(BigInt(x), 2)));
function callIndex(pallet: string, call: string): Uint8Array {
  const c = (decorated.tx as unknown as Record<string, Record<string, { callIndex: Uint8Array }>>)[pallet][call];
  return c.callIndex;
}

describe('spec 381 metadata v16 (offline)', () => {
  it('is the runtime we think it is', () => {
    expect(metadata.version).toBe(16);
    expect(Object.keys(decorated.tx.subtensorModule).length).toBe(68);
  });

  it('add_stake(hotkey, netuid, amount) encodes hotkey ‖ u16 ‖ u64', () => {
    const call = calls.stakeCall(ctx, 'add', hot, 7, 123_456_789n);
    expect(u8aToHex(call.toU8a())).toBe(u8aToHex(u8aConcat(callIndex('subtensorModule', 'addStake'), hotRaw, le(7n, 2), le(123_456_789n, 8))));
  });

  it('set_mechanism_weights / commit_mechanism_weights / reveal_mechanism_weights carry mecid: u8', () => {
    const sw = calls.setWeightsCall(ctx, 3, [1, 2], [100, 65_535], 5n, 1);
    expect(u8aToHex(sw.toU8a())).toBe(u8aToHex(u8aConcat(callIndex('subtensorModule', 'setMechanismWeights'), le(3n, 2), new Uint8Array([1]), u16s([1, 2]), u16s([100, 65_535]), le(5n, 8))));
    const hash = `0x${'ab'.repeat(32)}`;
    const cw = calls.commitWeightsCall(ctx, 3, hash, 2);
    expect(u8aToHex(cw.toU8a())).toBe(u8aToHex(u8aConcat(callIndex('subtensorModule', 'commitMechanismWeights'), le(3n, 2), new Uint8Array([2]), new Uint8Array(32).fill(0xab))));
    const rw = calls.revealWeightsCall(ctx, 3, [4], [9], [1, 2], 0n, 1);
    expect(u8aToHex(rw.toU8a())).toBe(
      u8aToHex(u8aConcat(callIndex('subtensorModule', 'revealMechanismWeights'), le(3n, 2), new Uint8Array([1]), u16s([4]), u16s([9]), u16s([1, 2]), le(0n, 8))),
    );
    // mechanism 0 stays on the plain call
    const plain = calls.setWeightsCall(ctx, 3, [1], [7], 0n, 0);
    expect(u8aToHex(plain.toU8a().slice(0, 2))).toBe(u8aToHex(callIndex('subtensorModule', 'setWeights')));
  });

  it('register_network(hotkey), burned_register, serve_axon (u128 ip), transfer_keep_alive', () => {
    expect(u8aToHex(calls.registerNetworkCall(ctx, hot).toU8a())).toBe(u8aToHex(u8aConcat(callIndex('subtensorModule', 'registerNetwork'), hotRaw)));
    expect(u8aToHex(calls.burnedRegisterCall(ctx, 9, hot).toU8a())).toBe(u8aToHex(u8aConcat(callIndex('subtensorModule', 'burnedRegister'), le(9n, 2), hotRaw)));
    const ax = calls.serveAxonCall(ctx, 9, { version: 3, ip: '192.0.2.7', port: 8091, ipType: 4, protocol: 4 });
    const ip = (192n << 24n) | (0n << 16n) | (2n << 8n) | 7n;
    expect(u8aToHex(ax.toU8a())).toBe(
      u8aToHex(u8aConcat(callIndex('subtensorModule', 'serveAxon'), le(9n, 2), le(3n, 4), le(ip, 16), le(8091n, 2), new Uint8Array([4, 4, 0, 0]))),
    );
    const tr = calls.transferCall(ctx, hot, 5n);
    expect(u8aToHex(tr.toU8a())).toBe(u8aToHex(u8aConcat(callIndex('balances', 'transferKeepAlive'), new Uint8Array([0]), hotRaw, new Uint8Array([5 << 2]))));
  });

  it('a call the runtime lacks, or a wrong argument, is one clear error naming the call and spec', () => {
    const fake = { src: { subtensorModule: {} } as unknown as CallSource<Codec>, specVersion: 381 };
    expect(() => calls.stakeCall(fake, 'add', hot, 1, 1n)).toThrow('subtensor_module.add_stake is not available in runtime spec 381');
    expect(() => calls.adminSetCall(ctx, 'burn', 1, 1n)).toThrow(/setting 'burn'.*spec 381/);
  });

  it('storage keys follow the declared hashers (NetUid newtype is still a u16 on the wire)', () => {
    const q = decorated.query.subtensorModule as unknown as Record<string, (arg: unknown) => Uint8Array>;
    const key = (item: string, ...args: unknown[]): string => u8aToHex(compactStripLength((q[item] as unknown as (...a: unknown[]) => Uint8Array)(...args))[1]);
    const prefix = (item: string): Uint8Array => u8aConcat(xxhashAsU8a('SubtensorModule', 128), xxhashAsU8a(item, 128));
    const blake128Concat = (x: Uint8Array): Uint8Array => u8aConcat(blake2AsU8a(x, 128), x);
    expect(key('uids', 5, hot)).toBe(u8aToHex(u8aConcat(prefix('Uids'), le(5n, 2), blake128Concat(hotRaw))));
    expect(key('blockAtRegistration', 5, 3)).toBe(u8aToHex(u8aConcat(prefix('BlockAtRegistration'), le(5n, 2), le(3n, 2))));
    expect(key('subnetOwnerHotkey', 5)).toBe(u8aToHex(u8aConcat(prefix('SubnetOwnerHotkey'), le(5n, 2))));
    expect(key('axons', 5, hot)).toBe(u8aToHex(u8aConcat(prefix('Axons'), le(5n, 2), blake128Concat(hotRaw))));
    // the metagraph's per-subnet (alpha) stake: TotalHotkeyAlpha(hotkey, netuid), Blake2_128Concat + Identity
    expect(key('totalHotkeyAlpha', hot, 5)).toBe(u8aToHex(u8aConcat(prefix('TotalHotkeyAlpha'), blake128Concat(hotRaw), le(5n, 2))));
  });

  it('typed NeuronInfoRuntimeApi.get_neurons_lite results decode through the adapter', () => {
    const apis = (metadata.asLatest as unknown as { apis: Array<{ name: { toString(): string }; methods: Array<{ name: { toString(): string }; output: { toNumber(): number } }> }> }).apis;
    const m = apis.find((a) => a.name.toString() === 'NeuronInfoRuntimeApi')?.methods.find((x) => x.name.toString() === 'get_neurons_lite');
    expect(m).toBeDefined();
    const type = registry.createLookupType(m!.output.toNumber());
    const cold = keypairFromUri('//Bob').ss58Address;
    const neuron = (uid: number) => ({
      hotkey: hot,
      coldkey: cold,
      uid,
      netuid: 5,
      active: true,
      axonInfo: { block: 10, version: 1, ip: (192n << 24n) | (2n << 8n) | 9n, port: 8091, ipType: 4, protocol: 4, placeholder1: 0, placeholder2: 0 },
      prometheusInfo: { block: 0, version: 0, ip: 0, port: 0, ipType: 0 },
      stake: [[cold, 1_000n], [hot, 234n]],
      rank: 0,
      emission: 77n,
      incentive: 1000 + uid,
      consensus: 2000,
      trust: 0,
      validatorTrust: 3000,
      dividends: 4000,
      lastUpdate: 99,
      validatorPermit: uid === 0,
      pruningScore: 0,
    });
    // encode as the runtime would, then decode only from bytes with the metadata's declared type
    const bytes = registry.createType(type, [neuron(0), neuron(1)]).toU8a();
    const decoded = decodeNeuronsLite(registry, registry.createType(type, bytes), null);
    expect(decoded).toHaveLength(2);
    expect(decoded[1]).toMatchObject({
      uid: 1,
      hotkey: hot,
      coldkey: cold,
      active: true,
      stake: 1_234n,
      emission: 77n,
      incentive: 1001,
      consensus: 2000,
      validatorTrust: 3000,
      dividends: 4000,
      lastUpdate: 99,
      validatorPermit: false,
      axon: { ip: '192.0.2.9', port: 8091, ipType: 4, block: 10, version: 1 },
    });
    expect(decoded[0].validatorPermit).toBe(true);
  });

  it('the transaction extensions @polkadot/api does not know are zero-sized (signing stays valid)', () => {
    const ext = (metadata.asLatest as unknown as { extrinsic: { transactionExtensions: Array<{ identifier: { toString(): string }; type: { toNumber(): number }; implicit: { toNumber(): number } }> } }).extrinsic
      .transactionExtensions;
    const custom = ext.filter((e) => ['SudoTransactionExtension', 'SubtensorTransactionExtension', 'DrandPriority'].includes(e.identifier.toString()));
    expect(custom).toHaveLength(3);
    for (const e of custom) {
      expect(registry.lookup.getTypeDef(e.type.toNumber()).type).toBe('Null');
      expect(registry.lookup.getTypeDef(e.implicit.toNumber()).type).toBe('Null');
    }
  });
});
