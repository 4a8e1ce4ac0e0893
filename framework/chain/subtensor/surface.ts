/**
 * Find calls by name in the connected runtime's metadata and build them from named arguments, so one
 * adapter serves spec 185 (`add_stake(hotkey, amount)`), 218 and 381 (`add_stake(hotkey, netuid,
 * amount)`) without hard-coded argument lists. The same code runs on a live ApiPromise and on an
 * offline decorated metadata (tests against the v16 metadata of spec 381).
 */
import { ChainError } from '../types.ts';

/** What a call creator exposes in both `api.tx` and the offline `expandMetadata(...).tx`. */
export interface CallCreator<R> {
  (...args: unknown[]): R;
  meta: { args: ArrayLike<{ name: { toString(): string }; type: { toString(): string } }> & Iterable<{ name: { toString(): string }; type: { toString(): string } }> };
}
export type CallSource<R> = Record<string, Record<string, CallCreator<R> | undefined> | undefined>;

export function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The argument list a call declares, as `name: Type` in metadata order (snake_case names). */
export function declaredArgs<R>(src: CallSource<R>, pallet: string, call: string): Array<{ name: string; type: string }> | null {
  const fn = src[camel(pallet)]?.[camel(call)];
  if (!fn) return null;
  return [...fn.meta.args].map((a) => ({ name: snake(a.name.toString()), type: a.type.toString() }));
}

export function hasCall<R>(src: CallSource<R>, pallet: string, call: string): boolean {
  return declaredArgs(src, pallet, call) !== null;
}

/** A call the runtime does not have, or whose arguments we cannot fill: one line naming both. */
export class MissingCallError extends ChainError {
  constructor(what: string, specVersion: number, detail?: string) {
    super('CallUnavailable', detail ? `${what} in runtime spec ${specVersion}: ${detail}` : `${what} is not available in runtime spec ${specVersion}`);
  }
}

/**
 * Build `pallet.call` from named arguments (snake_case, subtensor's names). Every declared argument
 * must be given (aliases allowed, e.g. `amount` for `amount_staked`); extra arguments are allowed only
 * when listed in `optional` (e.g. `netuid` for add_stake on spec 185, where stake was not per subnet).
 */
export function buildCall<R>(
  src: CallSource<R>,
  specVersion: number,
  pallet: string,
  call: string,
  args: Record<string, unknown>,
  opts: { optional?: string[]; aliases?: Record<string, string[]>; defaults?: Record<string, unknown> } = {},
): R {
  const declared = declaredArgs(src, pallet, call);
  if (!declared) throw new MissingCallError(`${pallet}.${call}`, specVersion);
  const fill: unknown[] = [];
  const used = new Set<string>();
  for (const d of declared) {
    const names = [d.name, ...(opts.aliases?.[d.name] ?? [])];
    const hit = names.find((n) => args[n] !== undefined);
    if (hit !== undefined) {
      fill.push(args[hit]);
      used.add(hit);
    } else if (opts.defaults && d.name in opts.defaults) {
      fill.push(opts.defaults[d.name]);
    } else {
      const shape = declared.map((x) => `${x.name}: ${x.type}`).join(', ');
      throw new MissingCallError(`${pallet}.${call}(${shape})`, specVersion, `no value for '${d.name}'`);
    }
  }
  for (const k of Object.keys(args)) {
    if (used.has(k) || args[k] === undefined || opts.optional?.includes(k)) continue;
    const shape = declared.map((x) => `${x.name}: ${x.type}`).join(', ');
    throw new MissingCallError(`${pallet}.${call}(${shape})`, specVersion, `it takes no '${k}'`);
  }
  const fn = src[camel(pallet)]?.[camel(call)] as CallCreator<R>;
  return fn(...fill);
}
