import { join } from 'node:path';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Commodity } from '../commodity/define.ts';
import { UserError } from '../errors.ts';
import { startValidator } from './runtime.ts';
import type { StartValidatorParams, ValidatorHandle } from './types.ts';

/**
 * One validator process pricing several commodities: one commodity per incentive mechanism of the
 * subnet (`{ 0: inference, 1: storage }`). Each mechanism runs its own loop (own scores, per-miner
 * state, pending tasks and commits under `<statePath>/mech<id>`) and sets its own weights with the
 * mechanism calls; they share the chain connection, the hotkey and the logger.
 */
export interface StartMechanismValidatorsParams extends Omit<StartValidatorParams<Commodity>, 'commodity' | 'mechid'> {
  mechanisms: Readonly<Record<number, Commodity>>;
}

export interface MechanismValidatorsHandle {
  /** Per-mechanism handles (state views, weight attempts). */
  mechanisms: ReadonlyMap<number, ValidatorHandle>;
  /** All mechanisms' metrics, each series labelled `mechid`. */
  metrics: Registry;
  stop(): Promise<void>;
}

/** Directory of one mechanism's state inside the validator's state directory. */
export function mechanismStatePath(statePath: string, mechid: number): string {
  return join(statePath, `mech${mechid}`);
}

export async function startMechanismValidators(params: StartMechanismValidatorsParams): Promise<MechanismValidatorsHandle> {
  const entries = Object.entries(params.mechanisms).map(([k, c]) => [Number(k), c] as const);
  if (entries.length === 0) throw new UserError('no mechanisms given', { hint: 'e.g. mechanisms: { 0: inference, 1: storage }' });
  for (const [id] of entries) if (!Number.isInteger(id) || id < 0 || id > 15) throw new UserError(`invalid mechanism id '${id}' (0…15)`);
  if (params.options?.pendingStore && entries.length > 1) {
    throw new UserError('one pendingStore cannot serve several mechanisms', { hint: 'leave pendingStore unset: each mechanism gets its own file store' });
  }
  if (params.options?.metricsRegistry) throw new UserError('metricsRegistry is per mechanism here; read the combined handle.metrics instead');
  const handles = new Map<number, ValidatorHandle>();
  const registries: Registry[] = [];
  try {
    for (const [mechid, commodity] of entries.sort((a, b) => a[0] - b[0])) {
      const registry = new Registry();
      registry.setDefaultLabels({ mechid: String(mechid) });
      registries.push(registry);
      const handle = await startValidator({
        ...params,
        commodity,
        mechid,
        statePath: mechanismStatePath(params.statePath, mechid),
        options: { ...params.options, metricsRegistry: registry },
      });
      handles.set(mechid, handle);
    }
  } catch (e) {
    await Promise.allSettled([...handles.values()].map((h) => h.stop()));
    throw e;
  }
  return {
    mechanisms: handles,
    metrics: combinedRegistry(registries),
    stop: async () => {
      await Promise.all([...handles.values()].map((h) => h.stop()));
    },
  };
}

/** A registry that renders the mechanisms' registries at scrape time (series kept apart by the mechid label). */
export function combinedRegistry(parts: Registry[]): Registry {
  return new (class extends Registry {
    override async metrics(): Promise<string> {
      return AggregatorRegistry.aggregate(await Promise.all(parts.map((r) => r.getMetricsAsJSON()))).metrics();
    }
  })();
}
