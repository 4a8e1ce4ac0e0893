import { describe, expect, it } from 'vitest';
import { catchRateTable, formatCatchTable } from '../src/catch-rate.ts';

describe('probability of catching a miner missing a fraction f of its data', () => {
  it('measured catch rate per challenge round matches 1 − (1 − f)^c within 4 σ', async () => {
    const cells = await catchRateTable([0.01, 0.1, 0.3, 0.5], [1, 4, 8, 16], 500);
    console.log(formatCatchTable(cells));
    for (const cell of cells) expect(cell.sigmas, `f=${cell.f} c=${cell.c}`).toBeLessThan(4);
    // and the detector is not trivially "always catch": small f with c = 1 is mostly missed
    expect(cells.find((x) => x.f === 0.01 && x.c === 1)!.measured).toBeLessThan(0.05);
  }, 120_000);
});
