import { z } from 'zod';
import { defineCommodity, type MinerAnswer, type MinerSide } from '../../framework/commodity/define.ts';
import { relativeSpeed } from '../../framework/commodity/scorers.ts';

const query = z.object({ words: z.number().int().min(1).max(50), seed: z.number().int() });
const response = z.object({ completion: z.string().nullable().optional() });
type Q = z.infer<typeof query>;
type R = z.infer<typeof response>;

export const expectedWords = (q: Q) => Array.from({ length: q.words }, (_, i) => `w${(q.seed + i) % 97} `).join('');

/** A miner streaming one SSE event per word (so chunk boundaries don't depend on how TCP batches writes); `wrong` corrupts word 3. */
export function wordStreamer(delayMs: number, wrong = false): MinerSide<Q, R> {
  return {
    handle(q) {
      return (async function* () {
        for (let i = 0; i < q.words; i++) {
          await new Promise((r) => setTimeout(r, delayMs));
          yield `data: ${wrong && i === 2 ? 'oops ' : `w${(q.seed + i) % 97} `}\n\n`;
        }
      })();
    },
  };
}

/**
 * An LLM-shaped streaming commodity for the validator tests: correctness × relative throughput (chunks/s) among
 * the round's correct streams. `seen` collects every answer the scorer got, telemetry included.
 */
export function wordStreamCommodity(name: string) {
  const seen: Array<MinerAnswer<Q, R>> = [];
  const commodity = defineCommodity({
    name,
    query,
    response,
    streaming: true,
    streamFraming: 'sse',
    timeoutMs: 3000,
    generate: (ctx) => ({ query: { words: 6, seed: ctx.rng.int(0, 1000) }, data: undefined }),
    score({ answers }) {
      seen.push(...answers);
      const correct = answers.map((a) => a.ok && a.response?.completion === expectedWords(a.query));
      const perChunkMs = answers.map((a, i) => {
        const c = a.stream?.chunks ?? [];
        return correct[i] && c.length > 1 ? (c[c.length - 1]!.receivedAt - c[0]!.receivedAt) / (c.length - 1) : null;
      });
      const speed = relativeSpeed(perChunkMs);
      return Object.fromEntries(answers.map((a, i) => [a.hotkey, correct[i] ? speed[i]! : 0]));
    },
  });
  return { commodity, seen };
}
