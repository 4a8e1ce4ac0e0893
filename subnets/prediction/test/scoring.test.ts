import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FastRng } from '../src/random.ts';
import { binarySkill, brier, crpsEnsemble, crpsNormal, logLoss, pathsSkill } from '../src/scoring.ts';

// Reference values computed independently, now, by python3 + numpy (pairwise CRPS, no sorting trick).
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy && process.env.CI === 'true') throw new Error('python3 with numpy is required under CI=true (apt-get install python3-numpy)');
if (!hasNumpy) console.warn('\n*** SKIPPING scoring reference tests: python3 with numpy not found ***\n');

const PY = `
import json, math, sys
import numpy as np
req = json.load(sys.stdin)
out = {"brier": [], "log": [], "ens": [], "norm": []}
for p, o in req["binary"]:
    out["brier"].append(float((p - o) ** 2))
    q = min(0.99, max(0.01, p))
    out["log"].append(float(-math.log(q if o == 1 else 1 - q)))
for xs, y in req["ens"]:
    x = np.asarray(xs, dtype=np.float64)
    out["ens"].append(float(np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))))
for mu, sd, y in req["norm"]:
    z = (y - mu) / sd
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    out["norm"].append(sd * (z * (2 * cdf - 1) + 2 * pdf - 1 / math.sqrt(math.pi)))
print(json.dumps(out))
`;

describe.skipIf(!hasNumpy)('scoring rules vs python3/numpy', () => {
  const rng = new FastRng('scoring-reference');
  const binary = Array.from({ length: 200 }, () => [rng.next(), rng.bool(0.5) ? 1 : 0] as [number, 0 | 1]);
  binary.push([0, 1], [1, 0], [0.005, 1], [0.999, 0]);
  const ens = Array.from({ length: 60 }, (_, i) => {
    const m = 1 + (i % 7 === 0 ? 999 : Math.floor(rng.next() * 200));
    return [Array.from({ length: m }, () => 50 * rng.normal() + (i % 3 === 0 ? 10 : 0)), 40 * rng.normal()] as [number[], number];
  });
  ens.push([[3, 3, 3, 3], 3], [[1, 2, 3], 10]);
  const norm = Array.from({ length: 100 }, () => [20 * rng.normal(), 0.1 + 30 * rng.next(), 60 * rng.normal()] as [number, number, number]);
  norm.push([0, 1, 8], [0, 1, -8], [5, 2, 5]);
  const ref = JSON.parse(execFileSync('python3', ['-c', PY], { input: JSON.stringify({ binary, ens, norm }), encoding: 'utf8', maxBuffer: 64 << 20 })) as Record<string, number[]>;

  it('Brier and log loss', () => {
    binary.forEach(([p, o], i) => {
      expect(brier(p, o)).toBeCloseTo(ref.brier![i]!, 14);
      expect(logLoss(p, o)).toBeCloseTo(ref.log![i]!, 12);
    });
  });

  it('ensemble CRPS (sorted O(M log M)) equals the pairwise definition, M from 1 to 1000', () => {
    ens.forEach(([xs, y], i) => expect(Math.abs(crpsEnsemble(xs, y) - ref.ens![i]!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref.ens![i]!))));
  });

  it('closed-form normal CRPS', () => {
    norm.forEach(([mu, sd, y], i) => expect(Math.abs(crpsNormal(mu, sd, y) - ref.norm![i]!)).toBeLessThan(1e-10 * Math.max(1, ref.norm![i]!)));
  });
});

describe('market-relative skill', () => {
  it('copying the market scores exactly 0, beating it > 0, worse < 0', () => {
    for (const rule of ['brier', 'log'] as const) {
      expect(binarySkill({ market: 0.37 }, 0.37, 1, rule)).toBe(0);
      expect(binarySkill({ market: 0.37 }, 0.6, 1, rule)).toBeGreaterThan(0);
      expect(binarySkill({ market: 0.37 }, 0.6, 0, rule)).toBeLessThan(0);
    }
  });

  it('paths: a sharper correct forecast beats the baseline, a confident wrong one loses (bounded at −1)', () => {
    const event = { refPrice: 100, baseline: { mean: [0, 0], sd: [100, 140] } };
    const realized = [101, 102]; // +99.5 and +198 bps
    const rng = new FastRng('paths');
    const good = Array.from({ length: 200 }, () => [100 * Math.exp((100 + 10 * rng.normal()) / 1e4), 100 * Math.exp((195 + 15 * rng.normal()) / 1e4)]);
    const bad = Array.from({ length: 200 }, () => [90, 85]);
    expect(pathsSkill(event, good, realized)).toBeGreaterThan(0.5);
    expect(pathsSkill(event, bad, realized)).toBe(-1);
  });
});
