import { z } from 'zod';
import { defineCommodity } from '../../framework/commodity/index.ts';

/** Commodity "x^k" for the mechanism tests: the validator checks the answer exactly. */
export function powerCommodity(name: string, k: number, timeoutMs = 2000) {
  return defineCommodity({
    name,
    query: z.object({ x: z.number().int() }),
    response: z.object({ y: z.number().int().nullable().optional() }),
    timeoutMs,
    sampleSize: 50,
    taskData: z.object({ x: z.number().int() }),
    generate(ctx) {
      const x = ctx.rng.int(2, 300);
      return { query: { x }, data: { x } };
    },
    score({ task, answers }) {
      return Object.fromEntries(answers.map((a) => [a.hotkey, a.ok && a.response?.y === task.data.x ** k ? 1 : 0]));
    },
  });
}
