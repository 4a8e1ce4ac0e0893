import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { describeZodError, UserError } from '../errors.ts';
import { checkScenario } from './engine.ts';
import type { Participant, Scenario, WeightTargets } from './types.ts';

const TAO = 1_000_000_000n;
const U64_MAX = (1n << 64n) - 1n;

const RAO_MESSAGE = 'expected a RAO amount (non-negative integer or digit string, ≤ u64) or "<n> TAO"';

/** u64 from a safe integer or a decimal string; RAO unless suffixed with "TAO" ("8 TAO", "0.5tao"). */
const raoAmount = z.unknown().transform((v, ctx) => {
  const r = typeof v === 'number' || typeof v === 'string' ? toRao(v) : null;
  if (r === null || r > U64_MAX) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: RAO_MESSAGE });
    return z.NEVER;
  }
  return r;
});

function toRao(v: number | string): bigint | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : null;
  v = v.trim();
  if (/^\d+$/.test(v)) return BigInt(v);
  const m = /^(\d+)(?:\.(\d{1,9}))?\s*tao$/i.exec(v);
  if (!m) return null;
  return BigInt(m[1]) * TAO + BigInt((m[2] ?? '').padEnd(9, '0'));
}

const u64Integer = z
  .union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d+$/, 'expected a digit string')])
  .transform((v) => BigInt(v));

const u16 = z.number().int().min(0).max(65535);

const hyperparametersSchema = z
  .object({
    tempo: z.number().int().min(3).max(65535),
    kappa: u16,
    bondsMovingAverage: u64Integer.refine((v) => v <= 1_000_000n, 'expected 0…1000000 (per million)'),
    bondsPenalty: u16,
    alphaLow: u16.refine((v) => v >= 1638, 'must be ≥ 1638 (65535/40)'),
    alphaHigh: u16.refine((v) => v >= 1638, 'must be ≥ 1638 (65535/40)'),
    alphaSigmoidSteepness: z.number().int().min(-32768).max(32767),
    maxAllowedValidators: z.number().int().min(1).max(65535),
    activityCutoff: z.number().int().min(1),
    emission: raoAmount,
  })
  .strict()
  .partial();

const weightTargets = z.record(z.string(), z.number().finite().nonnegative());

const weightStep = z
  .object({
    fromEpoch: z.number().int().nonnegative(),
    /** null: stop setting weights (stored weights go stale). */
    to: weightTargets.nullable(),
  })
  .strict();

const stakeStep = z.object({ fromEpoch: z.number().int().nonnegative(), stake: raoAmount }).strict();

const participantSchema = z
  .object({
    name: z.string().min(1).max(40),
    uid: z.number().int().nonnegative().optional(),
    role: z.enum(['validator', 'miner', 'copier']),
    stake: z
      .union([z.array(stakeStep).min(1), raoAmount], { errorMap: () => ({ message: `${RAO_MESSAGE}, or a list of {fromEpoch, stake}` }) })
      .default(0),
    weights: z.array(weightStep).min(1).optional(),
    /** Set weights this many epochs late (at epoch e, the schedule's entry for e − lateBy). */
    lateBy: z.number().int().nonnegative().optional(),
    registeredAtEpoch: z.number().int().nonnegative().optional(),
    /** Epochs at which the uid is pruned and re-registered (weights set on it before become outdated). */
    reRegisterAt: z.array(z.number().int().positive()).optional(),
  })
  .strict();

export const scenarioFileSchema = z
  .object({
    name: z.string().min(1).max(80),
    description: z.string().default(''),
    epochs: z.number().int().min(1).max(100_000).default(40),
    hyperparameters: hyperparametersSchema.default({}),
    bondResets: z.array(z.object({ epoch: z.number().int().nonnegative(), participant: z.string() }).strict()).default([]),
    participants: z.array(participantSchema).min(1),
  })
  .strict()
  .superRefine((s, ctx) => {
    const names = new Set(s.participants.map((p) => p.name));
    s.participants.forEach((p, i) => {
      if (p.weights && p.role === 'miner') {
        ctx.addIssue({ code: 'custom', path: ['participants', i, 'weights'], message: `a ${p.role} sets no weight schedule` });
      }
      checkIncreasing(p.weights ?? [], ['participants', i, 'weights'], ctx);
      if (Array.isArray(p.stake)) checkIncreasing(p.stake, ['participants', i, 'stake'], ctx);
      (p.weights ?? []).forEach((step, k) => {
        for (const target of Object.keys(step.to ?? {})) {
          if (!names.has(target)) {
            ctx.addIssue({ code: 'custom', path: ['participants', i, 'weights', k, 'to', target], message: `unknown participant '${target}'` });
          }
        }
      });
    });
    s.bondResets.forEach((r, i) => {
      if (!names.has(r.participant)) {
        ctx.addIssue({ code: 'custom', path: ['bondResets', i, 'participant'], message: `unknown participant '${r.participant}'` });
      }
    });
  });

export type ScenarioFile = z.infer<typeof scenarioFileSchema>;

function checkIncreasing(steps: Array<{ fromEpoch: number }>, path: Array<string | number>, ctx: z.RefinementCtx): void {
  steps.forEach((s, k) => {
    if (k > 0 && s.fromEpoch <= steps[k - 1].fromEpoch) {
      ctx.addIssue({ code: 'custom', path: [...path, k, 'fromEpoch'], message: 'fromEpoch must increase from one entry to the next' });
    }
  });
}

/** The entry in force at `epoch` of a piecewise list, or undefined before the first one. */
function stepAt<T extends { fromEpoch: number }>(steps: T[], epoch: number): T | undefined {
  let found: T | undefined;
  for (const s of steps) if (s.fromEpoch <= epoch) found = s;
  return found;
}

/** Compile the validated file form into the engine's Scenario (piecewise lists become functions). */
export function scenarioFromFile(file: ScenarioFile): Scenario {
  const participants: Participant[] = file.participants.map((p, i) => {
    const stake = p.stake;
    const weights = p.weights;
    const lateBy = p.lateBy ?? 0;
    return {
      name: p.name,
      uid: p.uid ?? i,
      role: p.role,
      stake: Array.isArray(stake) ? (e: number) => stepAt(stake, e)?.stake ?? 0n : stake,
      weights: weights
        ? (e: number): WeightTargets | null => (e - lateBy < 0 ? null : (stepAt(weights, e - lateBy)?.to ?? null))
        : undefined,
      registeredAtEpoch: p.registeredAtEpoch,
      reRegisterAt: p.reRegisterAt,
    };
  });
  const scenario: Scenario = {
    name: file.name,
    description: file.description,
    epochs: file.epochs,
    participants,
    hyperparameters: file.hyperparameters,
    bondResets: file.bondResets,
  };
  checkScenario(scenario);
  return scenario;
}

/** Parse scenario text (YAML or JSON, which is YAML too); `source` names it in error messages. */
export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(`cannot parse ${source}: ${msg}`, { hint: 'scenario files are YAML or JSON' });
  }
  const parsed = scenarioFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(describeZodError(parsed.error, source), { hint: 'see docs/simulate.md for the scenario file format' });
  }
  try {
    return scenarioFromFile(parsed.data);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(e.message.replace(/^invalid scenario/, `invalid ${source}`), { hint: e.hint });
    throw e;
  }
}

/** Read and validate a scenario file (.yaml, .yml or .json). */
export async function parseScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read scenario file ${path}: ${code ?? String(e)}`, { hint: 'pass a built-in name (see --list) or a YAML/JSON file' });
  }
  return parseScenarioText(text, `scenario file ${path}`);
}
