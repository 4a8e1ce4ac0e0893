import type { ServerResponse } from 'node:http';
import { writeResponse } from './http.ts';
import { terminalInfoHeaders, type TerminalInfo } from '../protocol/index.ts';

/** An answer the pipeline decided on before (or instead of) running the handler. */
export class AxonReject extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Label for axon_verification_failures_total when this is a verification failure. */
    readonly verifyReason?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AxonReject';
  }
}

/** Header values must be visible ASCII; a custom blacklist reason could contain anything. */
export function headerSafe(value: string): string {
  const v = value.length > 1024 ? `${value.slice(0, 1021)}...` : value;
  return /^[\x20-\x7e]*$/.test(v) ? v : v.replace(/[^\x20-\x7e]/g, '?');
}

/** `bt_header_{side}_{field}` for every non-null TerminalInfo field, made header-safe. */
export function terminalHeaders(side: 'axon' | 'dendrite', t: Partial<TerminalInfo>, out: Record<string, string>): void {
  terminalInfoHeaders(side, t, out, headerSafe);
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/** Error answer: SDK body `{"message": …}` plus the TerminalInfo headers. */
export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string>, close = false): void {
  writeResponse(res, status, headers, JSON.stringify({ message }), JSON_TYPE, close);
}

/** The 429 for a caller over its per-caller rate limit: the reason and when to come back (Retry-After, whole seconds). */
export function rateLimited(hotkey: string, waitMs: number): { status: 429; message: string; headers: Record<string, string> } {
  return {
    status: 429,
    message: `Too Many Requests: rate limit exceeded for ${hotkey}, retry in ${waitMs} ms`,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
  };
}
