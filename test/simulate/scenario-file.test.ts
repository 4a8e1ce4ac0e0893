import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../framework/errors.ts';
import { parseScenarioFile, parseScenarioText } from '../../framework/simulate/scenario-file.ts';
import { maxUpscaleToU16 } from '../../framework/simulate/weights.ts';

const VALID_YAML = `
name: my-switch
description: B follows A one epoch later
epochs: 12
hyperparameters:
  kappa: 32767
  bondsMovingAverage: 975000
  emission: "2 TAO"
bondResets:
  - { epoch: 8, participant: s1 }
participants:
  - { name: A, role: validator, stake: "6 TAO", weights: [{ fromEpoch: 0, to: { s1: 1 } }, { fromEpoch: 5, to: { s2: 1 } }] }
  - name: B
    role: validator
    stake: [{ fromEpoch: 0, stake: 4000000000 }, { fromEpoch: 6, stake: "18446744073709551615" }]
    lateBy: 1
    weights: [{ fromEpoch: 0, to: { s1: 1 } }, { fromEpoch: 5, to: { s2: 1 } }, { fromEpoch: 9, to: null }]
  - { name: W, role: copier, stake: 1000 }
  - { name: s1, role: miner }
  - { name: s2, role: miner, registeredAtEpoch: 3, reRegisterAt: [7] }
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'simulate-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function userErrorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('scenario files', () => {
  it('parses YAML into participants with piecewise schedules, lateness and bigint stakes', () => {
    const s = parseScenarioText(VALID_YAML, 'test.yaml');
    expect(s.name).toBe('my-switch');
    expect(s.epochs).toBe(12);
    expect(s.hyperparameters?.bondsMovingAverage).toBe(975000n);
    expect(s.hyperparameters?.emission).toBe(2_000_000_000n);
    expect(s.bondResets).toEqual([{ epoch: 8, participant: 's1' }]);
    const [a, b, w, s1, s2] = s.participants;
    expect([a.uid, b.uid, w.uid, s1.uid, s2.uid]).toEqual([0, 1, 2, 3, 4]);
    expect(a.stake).toBe(6_000_000_000n);
    expect(a.weights!(4)).toEqual({ s1: 1 });
    expect(a.weights!(5)).toEqual({ s2: 1 });
    // B runs one epoch late: nothing at 0, then A's schedule shifted by one, then stops at 9 + 1.
    expect(b.weights!(0)).toBeNull();
    expect(b.weights!(5)).toEqual({ s1: 1 });
    expect(b.weights!(6)).toEqual({ s2: 1 });
    expect(b.weights!(10)).toBeNull();
    const stakeB = b.stake as (e: number) => bigint;
    expect(stakeB(5)).toBe(4_000_000_000n);
    expect(stakeB(6)).toBe(18446744073709551615n);
    expect(w.role).toBe('copier');
    expect(s2.registeredAtEpoch).toBe(3);
    expect(s2.reRegisterAt).toEqual([7]);
  });

  it('reads JSON files from disk the same way', async () => {
    const path = join(dir, 'ok.json');
    await writeFile(path, JSON.stringify({ name: 'j', participants: [{ name: 'V', role: 'validator', stake: 5, weights: [{ fromEpoch: 0, to: { m: 1 } }] }, { name: 'm', role: 'miner' }] }));
    const s = await parseScenarioFile(path);
    expect(s.epochs).toBe(40);
    expect(s.participants.map((p) => p.name)).toEqual(['V', 'm']);
  });

  it.each([
    ['a negative stake', VALID_YAML.replace('stake: 1000', 'stake: -5'), /participants\.2\.stake/],
    ['an unknown weight target', VALID_YAML.replace('to: { s2: 1 } }] }', 'to: { s9: 1 } }] }'), /participants\.0\.weights\.1\.to\.s9: unknown participant 's9'/],
    ['a kappa above u16', VALID_YAML.replace('kappa: 32767', 'kappa: 70000'), /hyperparameters\.kappa/],
    ['an unknown field', VALID_YAML.replace('epochs: 12', 'epochs: 12\nepochz: 3'), /epochz/],
    ['a wrong role', VALID_YAML.replace('role: copier', 'role: leader'), /participants\.2\.role/],
    ['non-increasing schedule', VALID_YAML.replace('{ fromEpoch: 9, to: null }', '{ fromEpoch: 2, to: null }'), /participants\.1\.weights\.2\.fromEpoch/],
    ['a miner with weights', VALID_YAML.replace('{ name: s1, role: miner }', '{ name: s1, role: miner, weights: [{ fromEpoch: 0, to: { s2: 1 } }] }'), /participants\.3\.weights: a miner/],
    ['a reset of an unknown participant', VALID_YAML.replace('participant: s1 }', 'participant: zz }'), /bondResets\.0\.participant/],
    ['a re-registration before registration', VALID_YAML.replace('reRegisterAt: [7]', 'reRegisterAt: [2]'), /participants\.4\.reRegisterAt/],
    ['a duplicate name', VALID_YAML.replace('name: B', 'name: A'), /duplicate name 'A'/],
    ['a stake with a bad unit', VALID_YAML.replace('"6 TAO"', '"6 ETH"'), /participants\.0\.stake/],
  ])('rejects %s with a one-line error naming the field', (_what, text, pattern) => {
    const err = userErrorOf(() => parseScenarioText(text, 'bad.yaml'));
    expect(err.message).toMatch(pattern);
    expect(err.message).toContain('bad.yaml');
    expect(err.message).not.toContain('\n');
    expect(err.exitCode).toBe(2);
  });

  it('reports YAML syntax errors and missing files as user errors', async () => {
    expect(userErrorOf(() => parseScenarioText('name: [unclosed', 'x.yaml')).message).toMatch(/cannot parse x\.yaml/);
    await expect(parseScenarioFile(join(dir, 'nope.yaml'))).rejects.toThrow(/cannot read scenario file .*ENOENT/);
  });
});

describe('stored weights', () => {
  it('max-upscales to u16 with half-to-even rounding and keeps explicit zeros', () => {
    const row = maxUpscaleToU16([[4, 0.5], [2, 1], [3, 0]])!;
    expect(row).toEqual([[2, 65535], [3, 0], [4, 32768]]); // 32767.5 → even 32768
    expect(maxUpscaleToU16([[1, 0]])).toBeNull();
    expect(() => maxUpscaleToU16([[1, -1]])).toThrow(RangeError);
  });
});
