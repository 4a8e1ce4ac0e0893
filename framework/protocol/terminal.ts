import { z } from 'zod';

/**
 * SDK `TerminalInfo`: what each side knows about the dendrite and the axon of one request. Wire names are
 * snake_case as in Python. `nonce` is unix ns, beyond 2^53, so it is a bigint here (a string on the wire).
 */
export interface TerminalInfo {
  status_code: number | null;
  status_message: string | null;
  process_time: number | null;
  ip: string | null;
  port: number | null;
  version: number | null;
  nonce: bigint | null;
  uuid: string | null;
  hotkey: string | null;
  signature: string | null;
}

/** Field order of the pydantic model (model_dump and header order). */
export const TERMINAL_FIELDS = [
  'status_code', 'status_message', 'process_time', 'ip', 'port', 'version', 'nonce', 'uuid', 'hotkey', 'signature',
] as const satisfies readonly (keyof TerminalInfo)[];

const PY_INT = /^\s*[+-]?\d+\s*$/;
const PY_FLOAT = /^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)\s*$/i;
const MAX_STRING = 4096;

/** Python `int(raw)` on a header string or JSON number (the SDK's `cast_int`). */
const pyBigInt = z
  .union([z.bigint(), z.number().int(), z.string().max(64).regex(PY_INT, 'expected an integer')])
  .transform((v) => (typeof v === 'string' ? BigInt(v.trim()) : BigInt(v)));
const pySafeInt = pyBigInt.refine((v) => v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER), 'integer out of range').transform(Number);
/** Python `float(raw)` (the SDK's `cast_float`). */
const pyFloat = z
  .union([z.number(), z.string().max(64).regex(PY_FLOAT, 'expected a float')])
  .transform((v) => (typeof v === 'number' ? v : parsePyFloatText(v)));
const str = z.string().max(MAX_STRING);

function parsePyFloatText(text: string): number {
  const t = text.trim().toLowerCase().replace(/^\+/, '');
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan') return NaN;
  return Number(t);
}

function nullable<T extends z.ZodTypeAny>(s: T) {
  return s.nullish().transform((v): z.output<T> | null => (v === undefined ? null : v));
}

/** Validates a TerminalInfo from a JSON body or from header strings; unknown keys are dropped (pydantic default). */
export const terminalInfoSchema: z.ZodType<TerminalInfo, z.ZodTypeDef, unknown> = z.object({
  status_code: nullable(pySafeInt),
  status_message: nullable(str),
  process_time: nullable(pyFloat),
  ip: nullable(str),
  port: nullable(pySafeInt),
  version: nullable(pySafeInt),
  nonce: nullable(pyBigInt),
  uuid: nullable(str),
  hotkey: nullable(str),
  signature: nullable(str),
});

/** A TerminalInfo with every field None, then the given ones. */
export function terminalInfo(fields: Partial<TerminalInfo> = {}): TerminalInfo {
  return {
    status_code: fields.status_code ?? null,
    status_message: fields.status_message ?? null,
    process_time: fields.process_time ?? null,
    ip: fields.ip ?? null,
    port: fields.port ?? null,
    version: fields.version ?? null,
    nonce: fields.nonce ?? null,
    uuid: fields.uuid ?? null,
    hotkey: fields.hotkey ?? null,
    signature: fields.signature ?? null,
  };
}
