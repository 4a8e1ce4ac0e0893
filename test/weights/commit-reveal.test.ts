import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TypeRegistry, Metadata } from '@polkadot/types';
import { blake2AsHex } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import fc from 'fast-check';
import {
  applyCommit,
  applyReveal,
  canReveal,
  commitHashV2,
  currentEpochWithLookahead,
  encodeCommitPayload,
  generateSalt,
  isCommitExpired,
  legacyEpochIndex,
  MAX_UNREVEALED_COMMITS,
  netuidStorageIndex,
  revealStatus,
  validateSetWeights,
  SET_WEIGHTS_ERRORS,
  COMMIT_REVEAL_ERRORS,
} from '../../framework/consensus/weights/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { UserError } from '../../framework/errors.ts';
import type { WeightCommit } from '../../framework/chain/types.ts';

await cryptoReady();
const alice = keypairFromUri('//Alice');
const registry = new TypeRegistry();
const metadata = new Metadata(registry, new Uint8Array(readFileSync('/work/shared/data/subtensor-metadata-v16.scale')));
registry.setMetadata(metadata);
const lookup = metadata.asLatest.lookup;
const pallet = metadata.asLatest.pallets.find((p) => p.name.toString() === 'SubtensorModule');
if (!pallet) throw new Error('SubtensorModule missing from metadata');

function callArgs(name: string): Array<{ name: string; type: string }> {
  const variants = lookup.getSiType(pallet!.calls.unwrap().type).def.asVariant.variants;
  const v = variants.find((x) => x.name.toString() === name);
  if (!v) throw new Error(`call ${name} not in metadata`);
  return v.fields.map((f) => ({ name: f.name.toString(), type: lookup.getTypeDef(f.type).type }));
}

const sample = {
  hotkey: alice.publicKey,
  netuidIndex: 3,
  uids: [0, 1, 70, 300],
  values: [65535, 1, 0, 32768],
  salt: [1, 2, 3, 4, 5, 6, 7, 65535],
  versionKey: 2_000_123n,
};

describe('commitHashV2 encoding', () => {
  it('reveal_weights / commit_weights argument types in the v16 metadata are what we hash', () => {
    expect(callArgs('reveal_weights')).toEqual([
      { name: 'netuid', type: 'u16' },
      { name: 'uids', type: 'Vec<u16>' },
      { name: 'values', type: 'Vec<u16>' },
      { name: 'salt', type: 'Vec<u16>' },
      { name: 'version_key', type: 'u64' },
    ]);
    expect(callArgs('commit_weights')).toEqual([
      { name: 'netuid', type: 'u16' },
      { name: 'commit_hash', type: 'H256' },
    ]);
    const item = pallet.storage.unwrap().items.find((i) => i.name.toString() === 'WeightCommits');
    expect(lookup.getTypeDef(item!.type.asMap.key).type).toBe('(u16,AccountId32)');
    expect(lookup.getTypeDef(item!.type.asMap.value).type).toBe('Vec<(H256,u64,u64,u64)>');
  });

  it('every error name we return exists in SubtensorModule errors of the v16 metadata', () => {
    const errors = lookup.getSiType(pallet.errors.unwrap().type).def.asVariant.variants.map((v) => v.name.toString());
    for (const name of [...SET_WEIGHTS_ERRORS, ...COMMIT_REVEAL_ERRORS]) expect(errors, name).toContain(name);
  });

  it('payload equals @polkadot/types SCALE of (AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', () => {
    const tuple = registry.createType('(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', [
      sample.hotkey, sample.netuidIndex, sample.uids, sample.values, sample.salt, sample.versionKey,
    ]);
    expect(u8aToHex(encodeCommitPayload(sample))).toBe(u8aToHex(tuple.toU8a()));
    expect(commitHashV2(sample)).toBe(blake2AsHex(tuple.toU8a(), 256));
  });

  it('matches @polkadot/types for random inputs (compact lengths across 1/2/4-byte forms)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 70 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (uids, salt, netuidIndex, versionKey) => {
          const input = { hotkey: alice.ss58Address, netuidIndex, uids, values: uids, salt, versionKey };
          const tuple = registry.createType('(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', [
            alice.publicKey, netuidIndex, uids, uids, salt, versionKey,
          ]);
          expect(commitHashV2(input)).toBe(blake2AsHex(tuple.toU8a(), 256));
        },
      ),
      { numRuns: 60 },
    );
    const big = Array.from({ length: 20000 }, (_, i) => i % 65536);
    const t = registry.createType('Vec<u16>', big).toU8a();
    expect(u8aToHex(encodeCommitPayload({ ...sample, uids: big }).subarray(34, 34 + t.length))).toBe(u8aToHex(t));
  });

  const hasPython = spawnSync('python3', ['-c', 'import hashlib'], { stdio: 'ignore' }).status === 0;
  it.runIf(hasPython)('matches the SDK recipe computed by Python hashlib (blake2b, digest_size=32)', () => {
    const script = [
      'import hashlib, struct, sys, json',
      'a = json.loads(sys.argv[1])',
      'def vec(xs): n = len(xs); assert n < 64; return bytes([n << 2]) + b"".join(struct.pack("<H", x) for x in xs)',
      'data = bytes.fromhex(a["pk"]) + struct.pack("<H", a["netuid"]) + vec(a["uids"]) + vec(a["values"]) + vec(a["salt"]) + struct.pack("<Q", a["vk"])',
      'print("0x" + hashlib.blake2b(data, digest_size=32).hexdigest())',
    ].join('\n');
    const arg = JSON.stringify({
      pk: u8aToHex(alice.publicKey).slice(2), netuid: sample.netuidIndex, uids: sample.uids,
      values: sample.values, salt: sample.salt, vk: Number(sample.versionKey),
    });
    const out = spawnSync('python3', ['-c', script, arg], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(commitHashV2(sample)).toBe(out.stdout.trim());
  });

  it('ss58 and raw public key give the same hash; any field change changes it', () => {
    const h = commitHashV2(sample);
    expect(h).toMatch(/^0x[0-9a-f]{64}$/);
    expect(commitHashV2({ ...sample, hotkey: alice.ss58Address })).toBe(h);
    expect(commitHashV2({ ...sample, versionKey: sample.versionKey + 1n })).not.toBe(h);
    expect(commitHashV2({ ...sample, salt: [...sample.salt.slice(0, 7), 0] })).not.toBe(h);
    expect(commitHashV2({ ...sample, netuidIndex: 4 })).not.toBe(h);
  });

  it('rejects out-of-range inputs with UserError', () => {
    expect(() => commitHashV2({ ...sample, uids: [65536] })).toThrow(UserError);
    expect(() => commitHashV2({ ...sample, versionKey: -1n })).toThrow(UserError);
    expect(() => commitHashV2({ ...sample, hotkey: 'not-an-address' })).toThrow(UserError);
    expect(() => commitHashV2({ ...sample, hotkey: new Uint8Array(31) })).toThrow(UserError);
    expect(netuidStorageIndex(3, 1)).toBe(4099);
  });

  it('generateSalt gives u16 values of the requested length', () => {
    const s = generateSalt();
    expect(s).toHaveLength(8);
    expect(s.every((x) => Number.isInteger(x) && x >= 0 && x <= 65535)).toBe(true);
    expect(generateSalt(16)).toHaveLength(16);
    expect(generateSalt(32)).not.toEqual(generateSalt(32));
    expect(() => generateSalt(0)).toThrow(UserError);
  });
});

describe('reveal window (yuma-consensus.md §4)', () => {
  it('reveal only in epoch commit + period; expired after', () => {
    const w = (currentEpoch: number) => ({ commitEpoch: 10, currentEpoch, revealPeriodEpochs: 2 });
    expect([10, 11, 12, 13].map((e) => canReveal(w(e)))).toEqual([false, false, true, false]);
    expect([10, 11, 12, 13].map((e) => isCommitExpired(w(e)))).toEqual([false, false, false, true]);
    expect([11, 12, 13].map((e) => revealStatus(w(e)))).toEqual(['too-early', 'open', 'expired']);
    expect(currentEpochWithLookahead(7, true)).toBe(8);
    expect(currentEpochWithLookahead(7, false)).toBe(7);
    expect(legacyEpochIndex(360, 0, 360)).toBe(1);
    expect(legacyEpochIndex(359, 0, 360)).toBe(0);
  });
});

const hash = (i: number): string => `0x${i.toString(16).padStart(64, '0')}`;
const crState = { commitRevealEnabled: true, revealPeriodEpochs: 1, weightsSetRateLimit: 100 };

describe('commit queue (subtensor internal_commit_weights)', () => {
  const call = { hash: hash(1), hotkeyUid: 3, currentBlock: 1000, currentEpoch: 5, lastUpdate: 0 };

  it('appends with the current epoch and block', () => {
    const r = applyCommit([], call, crState);
    expect(r).toEqual({ ok: true, queue: [{ hash: hash(1), commitEpoch: 5, commitBlock: 1000 }] });
  });

  it('errors in subtensor order', () => {
    expect(applyCommit([], call, { ...crState, commitRevealEnabled: false })).toEqual({ ok: false, error: 'CommitRevealDisabled' });
    expect(applyCommit([], { ...call, hotkeyUid: null }, crState)).toEqual({ ok: false, error: 'HotKeyNotRegisteredInSubNet' });
    expect(applyCommit([], { ...call, lastUpdate: 901 }, crState)).toEqual({ ok: false, error: 'CommittingWeightsTooFast' });
    expect(applyCommit([], { ...call, lastUpdate: 900 }, crState).ok).toBe(true);
  });

  it(`allows at most ${MAX_UNREVEALED_COMMITS} unexpired commits, expired ones are pruned first`, () => {
    const full: WeightCommit[] = Array.from({ length: 10 }, (_, i) => ({ hash: hash(100 + i), commitEpoch: 5, commitBlock: 900 + i }));
    expect(applyCommit(full, call, crState)).toEqual({ ok: false, error: 'TooManyUnrevealedCommits' });
    const withOld: WeightCommit[] = [{ hash: hash(99), commitEpoch: 3, commitBlock: 500 }, ...full.slice(1)];
    const r = applyCommit(withOld, call, crState);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.queue).toHaveLength(10);
      expect(r.queue[0].hash).toBe(hash(101));
    }
    expect(withOld[0].hash).toBe(hash(99)); // input untouched
  });
});

describe('reveal queue (subtensor internal_reveal_weights)', () => {
  const q: WeightCommit[] = [
    { hash: hash(1), commitEpoch: 4, commitBlock: 700 },
    { hash: hash(2), commitEpoch: 5, commitBlock: 1000 },
    { hash: hash(3), commitEpoch: 6, commitBlock: 1400 },
  ];

  it('reveals in its epoch and drops every earlier commit', () => {
    const r = applyReveal(q, { hash: hash(2), currentEpoch: 6 }, crState);
    expect(r).toEqual({ ok: true, queue: [q[2]], revealed: q[1] });
  });

  it('maps each failure to subtensor’s error', () => {
    expect(applyReveal([], { hash: hash(1), currentEpoch: 5 }, crState)).toEqual({ ok: false, error: 'NoWeightsCommitFound' });
    expect(applyReveal(q, { hash: hash(3), currentEpoch: 6 }, crState)).toEqual({ ok: false, error: 'RevealTooEarly' });
    expect(applyReveal(q, { hash: hash(1), currentEpoch: 6 }, crState)).toEqual({ ok: false, error: 'ExpiredWeightCommit' });
    expect(applyReveal(q, { hash: hash(9), currentEpoch: 6 }, crState)).toEqual({ ok: false, error: 'InvalidRevealCommitHashNotMatch' });
    expect(applyReveal(q, { hash: hash(9), currentEpoch: 9 }, crState)).toEqual({ ok: false, error: 'NoWeightsCommitFound' });
    expect(applyReveal(q, { hash: hash(3), currentEpoch: 9 }, crState)).toEqual({ ok: false, error: 'ExpiredWeightCommit' });
    expect(applyReveal(q, { hash: hash(2), currentEpoch: 6 }, { ...crState, commitRevealEnabled: false })).toEqual({ ok: false, error: 'CommitRevealDisabled' });
    expect(() => applyReveal(q, { hash: 'zz', currentEpoch: 6 }, crState)).toThrow(UserError);
  });

  it('full validator flow: process → emit → commit → wait an epoch → reveal → set_weights accepted', () => {
    const uids = [0, 1, 2];
    const values = [65535, 32768, 1];
    const salt = generateSalt();
    const h = commitHashV2({ hotkey: alice.publicKey, netuidIndex: 1, uids, values, salt, versionKey: 0n });
    const c = applyCommit([], { hash: h, hotkeyUid: 0, currentBlock: 50, currentEpoch: 2, lastUpdate: 0 }, crState);
    if (!c.ok) throw new Error(c.error);
    // Same epoch: too early. Next epoch: the chain recomputes the hash from the revealed data.
    const recomputed = commitHashV2({ hotkey: alice.ss58Address, netuidIndex: 1, uids, values, salt, versionKey: 0n });
    expect(applyReveal(c.queue, { hash: recomputed, currentEpoch: 2 }, crState)).toEqual({ ok: false, error: 'RevealTooEarly' });
    const r = applyReveal(c.queue, { hash: recomputed, currentEpoch: 3 }, crState);
    expect(r.ok).toBe(true);
    const state = {
      n: 3, minAllowedWeights: 1, maxWeightsLimit: 65535, weightsVersionKey: 0n, weightsSetRateLimit: 100,
      commitRevealEnabled: true, hasValidatorPermit: true,
    };
    const setCall = { uids, values, versionKey: 0n, hotkeyUid: 0, currentBlock: 60, lastUpdate: 50 };
    expect(validateSetWeights({ ...setCall, kind: 'reveal' }, state)).toBeNull();
    expect(validateSetWeights(setCall, state)).toBe('CommitRevealEnabled');
  });
});
