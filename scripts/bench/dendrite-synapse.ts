import { z } from 'zod';
import { defineSynapse } from '../../framework/protocol/index.ts';

/** A small synapse with a hashed request, like a typical validator query. */
export const BenchSynapse = defineSynapse({
  name: 'BenchSynapse',
  request: z.object({ task: z.string(), seed: z.number().int(), params: z.array(z.number()) }),
  response: z.object({ answer: z.number().int() }),
  requiredHashFields: ['task', 'seed', 'params'],
});
