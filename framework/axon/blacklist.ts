import type { BlacklistPolicy, CallerInfo } from './types.ts';

export type CallerClass = 'validator' | 'registered' | 'unknown';

export function callerClass(info: CallerInfo | undefined): CallerClass {
  if (info === undefined) return 'unknown';
  return info.validatorPermit ? 'validator' : 'registered';
}

/**
 * The axon-wide blacklist: returns a reason (→ 403) or null. Checks registration first so a lookup
 * of an unknown hotkey can never throw or index out of range (SDK issue: `hotkeys.index()` first).
 */
export function makeBlacklist(policy: BlacklistPolicy = {}): (hotkey: string, info: CallerInfo | undefined) => string | null {
  const allow = new Set(policy.allowList ?? []);
  const minStake = policy.minStake ?? 0n;
  return (hotkey, info) => {
    if (allow.has(hotkey)) return null;
    if (info === undefined) return policy.allowUnregistered ? null : 'Unrecognized hotkey';
    if (policy.requireValidatorPermit && !info.validatorPermit) return 'Hotkey has no validator permit';
    if (info.stake < minStake) return `Stake ${info.stake} is below the minimum ${minStake}`;
    return null;
  };
}
