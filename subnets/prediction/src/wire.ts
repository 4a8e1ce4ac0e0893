import { z } from 'zod';
import { eventId, predictionEvent } from './events.ts';
import { forecastSchema, hex32, receiptSchema } from './seal.ts';

/**
 * The synapse. `commit` (before the cutoff): here are the open events, send commitments. `reveal` (after
 * it): here are your commitments and my receipts for them, open them. Bounded so a hostile peer cannot
 * make either side do unbounded work.
 */
export const MAX_EVENTS_PER_QUERY = 64;

export const revealRequest = z.object({ eventId, commitment: hex32, receipt: receiptSchema, cutoffAt: z.number().int().nonnegative() }).strict();

export const predictionQuery = z.object({
  phase: z.enum(['commit', 'reveal']),
  events: z.array(predictionEvent).max(MAX_EVENTS_PER_QUERY).default([]),
  reveal: z.array(revealRequest).max(MAX_EVENTS_PER_QUERY).default([]),
});

export const predictionResponse = z.object({
  commits: z.array(z.object({ eventId, commitment: hex32 }).strict()).max(MAX_EVENTS_PER_QUERY).nullish(),
  reveals: z.array(z.object({ eventId, salt: hex32, forecast: forecastSchema }).strict()).max(MAX_EVENTS_PER_QUERY).nullish(),
});

export type PredictionQuery = z.infer<typeof predictionQuery>;
export type PredictionResponse = z.infer<typeof predictionResponse>;
export type RevealRequest = z.infer<typeof revealRequest>;
