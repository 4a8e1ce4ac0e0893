import { z } from 'zod';
import { defineCommodity, type MinerSide } from '../../framework/commodity/define.ts';
import { relativeSpeed, type Rewards } from '../../framework/commodity/index.ts';

export type Behavior = 'honest' | 'wrong' | 'slow' | 'offline' | 'crash';

const query = z.object({ x: z.number().int() });
const response = z.object({ y: z.number().int().nullable().optional() });
type Q = z.infer<typeof query>;
type R = z.infer<typeof response>;

/** Miners answer x² (honest), garbage, late, never, or throw. */
export function squareMiner(b: Behavior, slowMs = 300): MinerSide<Q, R> {
  return {
    async handle(q, ctx) {
      if (b === 'wrong') return { y: q.x * q.x + 1 };
      if (b === 'crash') throw new Error('miner bug');
      if (b === 'slow') await new Promise((r) => setTimeout(r, slowMs));
      if (b === 'offline') await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
      return { y: q.x * q.x };
    },
  };
}

/** Score = correct × fastest/own; optionally a delayed variant scored `delayBlocks` later. */
export function squareCommodity(opts: { timeoutMs?: number; delayBlocks?: number; failScoring?: () => boolean; protocol?: 'btauth' | 'synapse'; route?: string } = {}) {
  return defineCommodity({
    name: 'SquareSynapse',
    protocol: opts.protocol,
    route: opts.route,
    query,
    response,
    timeoutMs: opts.timeoutMs ?? 1000,
    sampleSize: 50,
    taskData: z.object({ x: z.number().int() }),
    minerState: { schema: z.object({ seen: z.number().int() }), initial: () => ({ seen: 0 }) },
    generate(ctx) {
      const x = ctx.rng.int(1, 1000);
      return { query: { x }, data: { x }, resolveAt: opts.delayBlocks ? { block: ctx.block.number + opts.delayBlocks } : undefined };
    },
    score({ task, answers, state }) {
      if (opts.failScoring?.()) throw new Error('validator-side scoring bug');
      const correct = answers.map((a) => a.ok && a.response?.y === task.data.x * task.data.x);
      const speed = relativeSpeed(answers.map((a, i) => (correct[i] ? a.latencyMs : null)));
      const out: Rewards = {};
      answers.forEach((a, i) => {
        out[a.hotkey] = correct[i] ? speed[i] : 0;
        state.update(a.hotkey, (s) => ({ seen: s.seen + 1 }));
      });
      return out;
    },
  });
}
