import { describe, expect, it } from 'vitest';
import { formatRows, judge, runHarness } from '../src/harness.ts';

describe('text-inference adversarial harness', () => {
  it('pays honest miners, not cheaters; the slow honest miner in between', async () => {
    const r = await runHarness({ epochs: 3, maxSeconds: 150 });
    console.log(`\n${formatRows(r.rows)}\nhonest share ${(100 * r.honestShare).toFixed(1)} % after ${r.epochs} epochs, ${r.seconds.toFixed(1)} s\n`);
    expect(judge(r)).toEqual([]);
    // every cheat was actually caught by the verifier, not merely out-raced; an answer the cheat left
    // unchanged (early-stop on a naturally short answer) is honest and may pass
    for (const row of r.rows.filter((x) => x.behavior !== 'honest' && x.behavior !== 'slow')) expect(row.passed, row.behavior).toBeLessThanOrEqual(row.untampered + Math.floor(row.verified / 10));
    for (const row of r.rows.filter((x) => x.behavior === 'honest' || x.behavior === 'slow')) expect(row.passed, row.behavior).toBe(row.verified);
  }, 200_000);
});
