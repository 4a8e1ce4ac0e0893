import { describe, expect, it } from 'vitest';
import { runHarness } from '../src/harness.ts';

describe('validator-side failure', () => {
  it('never penalises miners when the reference model cannot be loaded', async () => {
    let checked = false;
    await runHarness({
      lineup: ['honest', 'random'],
      referenceModelPath: '/nonexistent/model.onnx',
      maxSeconds: 5, // the block loop stops at once; `during` keeps the subnet up until it is done
      during: async (net) => {
        const end = Date.now() + 20_000;
        while (net.validator.state.step < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        expect(net.validator.state.step).toBeGreaterThanOrEqual(3);
        // rounds ran and every answer arrived, but scoring threw: nothing was applied, not even to the cheater
        expect(net.validator.state.scores()).toEqual({});
        const errors = await net.validator.metrics.getSingleMetric('subnet_validator_scoring_errors_total')?.get();
        const rounds = await net.validator.metrics.getSingleMetric('subnet_validator_rounds_total')?.get();
        console.log('scoring errors', JSON.stringify(errors?.values), 'rounds', JSON.stringify(rounds?.values));
        expect(errors?.values[0]?.value ?? 0).toBeGreaterThanOrEqual(2);
        checked = true;
      },
    });
    expect(checked).toBe(true);
  }, 60_000);
});
