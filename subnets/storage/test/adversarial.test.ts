import { describe, expect, it } from 'vitest';
import { formatHarness, runStorageHarness } from '../src/harness.ts';

// The harness produces one block per validator round, so every epoch carries the same evidence on a
// loaded CI machine as on an idle one (with wall-clock blocks a loaded run saw a handful of rounds and
// a lucky cheater's two passes weighed like an honest record).
describe('storage subnet under attack (LocalChain, real axons over 127.0.0.1, Yuma incentive)', () => {
  it('honest miners earn ≥ 90 %, every cheater ≤ 10 % of the honest mean, every user object comes back intact', async () => {
    const r = await runStorageHarness({ epochs: 6, maxSeconds: 170, onProgress: (l) => console.log(l) });
    console.log(formatHarness(r));
    expect(r.epochs).toBe(6);
    expect(r.honestShare).toBeGreaterThanOrEqual(0.9);
    const cheaters = r.rows.filter((x) => x.role !== 'honest');
    expect(cheaters.map((x) => x.role).sort()).toEqual(['ack-only', 'dropper', 'fetcher', 'hash-only', 'replayer', 'sybil', 'sybil', 'sybil']);
    for (const row of cheaters) expect(row.incentive, row.label).toBeLessThanOrEqual(0.1 * r.honestMean);
    expect(r.userObjects).toBe(12);
    expect(r.intact).toBe(r.userObjects);
  }, 200_000);
});
