/**
 * The subtensor extrinsics the adapter sends, built by name through surface.ts. Pure functions of a
 * CallSource, so the offline v16 test checks exactly what the live adapter would submit.
 */
import type { ServeAxonParams, SubnetHyperparameters } from '../types.ts';
import { buildCall, declaredArgs, hasCall, MissingCallError, type CallSource } from './surface.ts';
import { ipToU128 } from './ip.ts';

const SM = 'subtensor_module';

export interface CallContext<R> {
  src: CallSource<R>;
  specVersion: number;
}

export function burnedRegisterCall<R>(c: CallContext<R>, netuid: number, hotkey: string): R {
  return buildCall(c.src, c.specVersion, SM, 'burned_register', { netuid, hotkey });
}

/** `register_network()` (185) / `(hotkey, mechid)` (218, mechanism 1 = dynamic like the SDK) / `(hotkey)` (381). */
export function registerNetworkCall<R>(c: CallContext<R>, hotkey: string): R {
  return buildCall(c.src, c.specVersion, SM, 'register_network', { hotkey }, { optional: ['hotkey'], defaults: { mechid: 1 } });
}

export function serveAxonCall<R>(c: CallContext<R>, netuid: number, a: ServeAxonParams): R {
  return buildCall(c.src, c.specVersion, SM, 'serve_axon', {
    netuid,
    version: a.version,
    ip: ipToU128(a.ip, a.ipType),
    port: a.port,
    ip_type: a.ipType,
    protocol: a.protocol,
    placeholder1: 0,
    placeholder2: 0,
  });
}

/** add_stake / remove_stake: `netuid` is dropped where the runtime's stake is not per subnet (185). */
export function stakeCall<R>(c: CallContext<R>, kind: 'add' | 'remove', hotkey: string, netuid: number, amount: bigint): R {
  const amountName = kind === 'add' ? 'amount_staked' : 'amount_unstaked';
  return buildCall(c.src, c.specVersion, SM, `${kind}_stake`, { hotkey, netuid, [amountName]: amount }, { optional: ['netuid'] });
}

/** Mechanism 0 uses the plain call (present everywhere); others need the runtime's `*_mechanism_*` call. */
function mechanismCall<R>(c: CallContext<R>, plain: string, mechanism: number, args: Record<string, unknown>): R {
  if (mechanism === 0) return buildCall(c.src, c.specVersion, SM, plain, args);
  const name = plain.replace('_weights', '_mechanism_weights');
  if (!hasCall(c.src, SM, name)) throw new MissingCallError(`${SM}.${name} (mechanism ${mechanism})`, c.specVersion);
  return buildCall(c.src, c.specVersion, SM, name, { ...args, mecid: mechanism });
}

export function setWeightsCall<R>(c: CallContext<R>, netuid: number, uids: number[], values: number[], versionKey: bigint, mechanism = 0): R {
  return mechanismCall(c, 'set_weights', mechanism, { netuid, dests: uids, weights: values, version_key: versionKey });
}

export function commitWeightsCall<R>(c: CallContext<R>, netuid: number, commitHash: string, mechanism = 0): R {
  return mechanismCall(c, 'commit_weights', mechanism, { netuid, commit_hash: commitHash });
}

export function revealWeightsCall<R>(
  c: CallContext<R>,
  netuid: number,
  uids: number[],
  values: number[],
  salt: number[],
  versionKey: bigint,
  mechanism = 0,
): R {
  return mechanismCall(c, 'reveal_weights', mechanism, { netuid, uids, values, salt, version_key: versionKey });
}

/** `transfer_keep_alive` where present (never reaps the sender), else the older `transfer`. */
export function transferCall<R>(c: CallContext<R>, dest: string, value: bigint): R {
  const name = hasCall(c.src, 'balances', 'transfer_keep_alive') ? 'transfer_keep_alive' : 'transfer';
  return buildCall(c.src, c.specVersion, 'balances', name, { dest: { Id: dest }, value });
}

/** Our hyperparameter names → AdminUtils `sudo_set_*` calls (subtensor's names). */
export const ADMIN_CALLS: Partial<Record<keyof SubnetHyperparameters, string>> = {
  tempo: 'sudo_set_tempo',
  kappa: 'sudo_set_kappa',
  rho: 'sudo_set_rho',
  immunityPeriod: 'sudo_set_immunity_period',
  minAllowedWeights: 'sudo_set_min_allowed_weights',
  maxWeightsLimit: 'sudo_set_max_weight_limit',
  weightsSetRateLimit: 'sudo_set_weights_set_rate_limit',
  weightsVersionKey: 'sudo_set_weights_version_key',
  activityCutoff: 'sudo_set_activity_cutoff',
  maxAllowedValidators: 'sudo_set_max_allowed_validators',
  maxAllowedUids: 'sudo_set_max_allowed_uids',
  bondsMovingAverage: 'sudo_set_bonds_moving_average',
  bondsPenalty: 'sudo_set_bonds_penalty',
  bondsResetOn: 'sudo_set_bonds_reset_enabled',
  commitRevealWeightsEnabled: 'sudo_set_commit_reveal_weights_enabled',
  revealPeriodEpochs: 'sudo_set_commit_reveal_weights_interval',
  liquidAlphaOn: 'sudo_set_liquid_alpha_enabled',
  yuma3On: 'sudo_set_yuma3_enabled',
  servingRateLimit: 'sudo_set_serving_rate_limit',
  minBurn: 'sudo_set_min_burn',
  maxBurn: 'sudo_set_max_burn',
};

/** One AdminUtils call `sudo_set_<x>(netuid, value)`; the value argument is whatever the runtime names it. */
export function adminSetCall<R>(c: CallContext<R>, key: keyof SubnetHyperparameters, netuid: number, value: unknown): R {
  const name = ADMIN_CALLS[key];
  if (!name) throw new MissingCallError(`setting '${key}'`, c.specVersion, 'no AdminUtils call sets it');
  const declared = declaredArgs(c.src, 'admin_utils', name);
  if (!declared) throw new MissingCallError(`admin_utils.${name}`, c.specVersion);
  const args: Record<string, unknown> = {};
  for (const d of declared) args[d.name] = d.name === 'netuid' ? netuid : value;
  if (declared.length !== 2 || !declared.some((d) => d.name === 'netuid')) {
    throw new MissingCallError(`admin_utils.${name}(${declared.map((d) => d.name).join(', ')})`, c.specVersion, 'expected (netuid, value)');
  }
  return buildCall(c.src, c.specVersion, 'admin_utils', name, args);
}
