import type { SynapseDef } from '../protocol/synapse.ts';

/** Which wire a commodity speaks: btauth/1 (SDK v11, the default) or the v10 Synapse wire. */
export type WireProtocol = 'btauth' | 'synapse';
export const WIRE_PROTOCOLS: readonly WireProtocol[] = ['btauth', 'synapse'];

export interface Wire {
  protocol: WireProtocol;
  /** btauth/1 route: `POST <path>` (the v10 wire always uses `/<SynapseName>`). */
  path: string;
}

/** A synapse that carries its commodity's wire choice (defineCommodity sets it). */
export type WiredSynapse = SynapseDef & { readonly wire?: Wire };

export function defaultRoute(name: string): string {
  return `/${name}`;
}

const PATH = /^\/[A-Za-z0-9._~\-/]{0,200}$/;
const RESERVED = new Set(['/healthz', '/metrics']);

/** Validate a wire choice; throws an Error naming the bad setting. */
export function resolveWire(name: string, protocol: WireProtocol | undefined, path: string | undefined): Wire {
  const p = protocol ?? 'btauth';
  if (!WIRE_PROTOCOLS.includes(p)) throw new Error(`commodity ${name}: protocol must be 'btauth' or 'synapse', got '${String(p)}'`);
  const route = path ?? defaultRoute(name);
  if (!PATH.test(route)) throw new Error(`commodity ${name}: route '${route}' must be a path like /generate (letters, digits, . _ ~ - /; no query)`);
  if (RESERVED.has(route)) throw new Error(`commodity ${name}: route '${route}' is reserved by the axon`);
  return { protocol: p, path: route };
}

/**
 * JSON text of a btauth/1 body. Maps (the `pyIntDict` / `pyDict` fields of a schema) become objects, as
 * pydantic sends them, instead of JSON.stringify's `{}`; btauth/1 hashes the raw bytes, so no Python
 * printing is needed.
 */
export function btauthJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v));
}
