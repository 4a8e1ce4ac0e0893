import { z } from 'zod';
import type { SynapseDef } from './synapse.ts';
import type { SynapseMeta } from './body.ts';
import { pyFloatRepr, pyIntStr, pyJsonDumps, pyJsonFloat, pyJsonString } from './python.ts';
import { baseKind, pyTyped } from './typed.ts';
import { terminalInfoJson } from './terminal.ts';
import { emptyInputObj, terminalInfoHeaders } from './headers.ts';

/**
 * The axon's answer, printed straight from its parts: byte-identical to
 * `serializeSynapseBody(def, body, { compact: true, ensureAscii: false })` (FastAPI's JSONResponse) and to
 * `toHeaders(def, body, { bodyHash })`, without building the typed copy of the body first. It runs once per
 * answered request, where the generic walkers cost several times a signature check's share.
 */
export interface SynapseAnswer extends Omit<SynapseMeta, 'name'> {
  /** Request fields as parsed (PyFloat markers and bigints kept); absent ones print as null. */
  request: Record<string, unknown>;
  /** Response fields as the handler returned them (after zod). */
  response: Record<string, unknown>;
}

type Printer = (v: unknown) => string;

/** FastAPI's JSONResponse: compact separators, UTF-8. */
const ANSWER_JSON = { compact: true, ensureAscii: false } as const;

interface Compiled {
  name: string;
  /** `,"field":` then the printer, request fields then response fields, in shape order. */
  requestFields: Array<[string, string, Printer]>;
  responseFields: Array<[string, string, Printer]>;
  /** Required request fields: [field, header, printer of the empty instance's base64]. */
  inputObj: Array<[string, string, (v: unknown) => string]>;
}

const compiled = new WeakMap<SynapseDef, Compiled>();

function compile(def: SynapseDef): Compiled {
  let c = compiled.get(def);
  if (c !== undefined) return c;
  const fields = (shape: z.ZodRawShape): Array<[string, string, Printer]> =>
    Object.entries(shape).map(([k, schema]) => [k, `,${pyJsonString(k, false)}:`, printer(schema)]);
  c = {
    name: pyJsonString(def.name, false),
    requestFields: fields(def.request.shape),
    responseFields: fields(def.response.shape),
    inputObj: Object.entries(def.request.shape)
      .filter(([, schema]) => !schema.isOptional())
      .map(([k, schema]) => [k, `bt_header_input_obj_${k}`, (v: unknown) => emptyInputObj(pyTyped(schema, v))]),
  };
  compiled.set(def, c);
  return c;
}

const generic = (schema: z.ZodTypeAny): Printer => (v) => pyJsonDumps(pyTyped(schema, v), ANSWER_JSON);

/** A printer for one field: direct for plain strings/ints/floats/booleans, the typed walker otherwise. */
function printer(schema: z.ZodTypeAny): Printer {
  const slow = generic(schema);
  const { kind, isInt } = baseKind(schema);
  switch (kind) {
    case z.ZodFirstPartyTypeKind.ZodString:
      return (v) => (typeof v === 'string' ? pyJsonString(v, false) : v === null || v === undefined ? 'null' : slow(v));
    case z.ZodFirstPartyTypeKind.ZodBoolean:
      return (v) => (v === true ? 'true' : v === false ? 'false' : v === null || v === undefined ? 'null' : slow(v));
    case z.ZodFirstPartyTypeKind.ZodNumber:
      return isInt
        ? (v) => (typeof v === 'number' && Number.isInteger(v) ? pyIntStr(v) : v === null || v === undefined ? 'null' : slow(v))
        : (v) => (typeof v === 'number' ? pyJsonFloat(v) : v === null || v === undefined ? 'null' : slow(v));
    default:
      return (v) => (v === null || v === undefined ? 'null' : slow(v));
  }
}

/** FastAPI JSONResponse bytes of the whole synapse (compact separators, UTF-8). */
export function synapseAnswerBody(def: SynapseDef, a: SynapseAnswer): string {
  const c = compile(def);
  let out = `{"name":${c.name},"timeout":${pyJsonFloat(a.timeout)},"total_size":${pyIntStr(a.total_size)},"header_size":${pyIntStr(a.header_size)},` +
    `"dendrite":${terminalInfoJson(a.dendrite, ANSWER_JSON)},"axon":${terminalInfoJson(a.axon, ANSWER_JSON)},"computed_body_hash":${pyJsonString(a.computed_body_hash, false)}`;
  for (const [k, key, print] of c.requestFields) out += key + print(Object.hasOwn(a.request, k) ? a.request[k] : null);
  for (const [k, key, print] of c.responseFields) out += key + print(a.response[k] ?? null);
  return `${out}}`;
}

/**
 * `toHeaders(def, body, { bodyHash })` of the answer, each value passed through `clean` (the axon makes
 * them header-safe). `header_size` counts the values before cleaning, as toHeaders does.
 */
export function synapseAnswerHeaders(def: SynapseDef, a: SynapseAnswer, clean: (v: string) => string = (v) => v): Record<string, string> {
  const c = compile(def);
  const timeout = pyFloatRepr(a.timeout);
  const h: Record<string, string> = { name: clean(def.name), timeout };
  let size = 4 + Buffer.byteLength(def.name) + 7 + timeout.length;
  size += terminalInfoHeaders('axon', a.axon, h, clean);
  size += terminalInfoHeaders('dendrite', a.dendrite, h, clean);
  for (const [k, key, b64] of c.inputObj) {
    const v = Object.hasOwn(a.request, k) ? a.request[k] : null;
    if (v === null || v === undefined) continue;
    const text = b64(v);
    size += key.length + text.length;
    h[key] = text;
  }
  h.header_size = String(size);
  h.total_size = String(a.total_size);
  h.computed_body_hash = clean(a.computed_body_hash);
  return h;
}
