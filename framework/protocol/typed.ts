import { z } from 'zod';
import { PyFloat, allFloats, pyTupleValue, stripPyFloats } from './python.ts';
import { copyKeyOrder, orderedKeys } from './key-order.ts';

/**
 * Apply pydantic's int/float coercion to a JSON value using its zod schema, so that `pythonStr` and
 * `pyJsonDumps` print what Python would: `z.number()` → float (`1` prints `1.0`), `z.number().int()` and
 * `z.bigint()` → int (`1.0` prints `1`). Untyped positions (`z.any()`, `z.unknown()`) keep the value's own
 * kind (see parsePyJson). Unknown schema kinds pass the value through unchanged.
 */
export function pyTyped(schema: z.ZodTypeAny, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const def = schema._def as { typeName?: string } & Record<string, unknown>;
  switch (def.typeName) {
    case z.ZodFirstPartyTypeKind.ZodNumber:
      return typedNumber(isIntSchema(schema as z.ZodNumber), value);
    case z.ZodFirstPartyTypeKind.ZodBigInt:
      return typedNumber(true, value);
    case z.ZodFirstPartyTypeKind.ZodOptional:
    case z.ZodFirstPartyTypeKind.ZodNullable:
    case z.ZodFirstPartyTypeKind.ZodDefault:
    case z.ZodFirstPartyTypeKind.ZodCatch:
    case z.ZodFirstPartyTypeKind.ZodReadonly:
      return pyTyped(def.innerType as z.ZodTypeAny, value);
    case z.ZodFirstPartyTypeKind.ZodEffects:
      return pyTyped(def.schema as z.ZodTypeAny, value);
    case z.ZodFirstPartyTypeKind.ZodBranded:
      return pyTyped(def.type as z.ZodTypeAny, value);
    case z.ZodFirstPartyTypeKind.ZodPipeline:
      return pyTyped(def.in as z.ZodTypeAny, value);
    case z.ZodFirstPartyTypeKind.ZodLazy:
      return pyTyped((def.getter as () => z.ZodTypeAny)(), value);
    case z.ZodFirstPartyTypeKind.ZodArray:
      return Array.isArray(value) ? value.map((v) => pyTyped(def.type as z.ZodTypeAny, v)) : value;
    case z.ZodFirstPartyTypeKind.ZodTuple: {
      if (!Array.isArray(value)) return value;
      const items = def.items as z.ZodTypeAny[];
      const rest = def.rest as z.ZodTypeAny | null;
      const out = value.map((v, i) => (i < items.length ? pyTyped(items[i], v) : rest ? pyTyped(rest, v) : v));
      return (def as Record<symbol, unknown>)[PY_TUPLE] === true ? pyTupleValue(out) : out;
    }
    case z.ZodFirstPartyTypeKind.ZodObject: {
      if (!isRecord(value)) return value;
      const shape = (schema as z.ZodObject<z.ZodRawShape>).shape;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = k in shape ? pyTyped(shape[k], v) : v;
      return copyKeyOrder(value, out);
    }
    case z.ZodFirstPartyTypeKind.ZodRecord: {
      if (!isRecord(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = pyTyped(def.valueType as z.ZodTypeAny, v);
      return copyKeyOrder(value, out);
    }
    case z.ZodFirstPartyTypeKind.ZodMap: {
      // A dict: a Map (zod's output) or the JSON object it came from (the axon hashes the parsed body)
      const entries = mapEntries(def.keyType as z.ZodTypeAny, value);
      if (entries === undefined) return value;
      const keyType = def.keyType as z.ZodTypeAny;
      const valueType = def.valueType as z.ZodTypeAny;
      return new Map(entries.map(([k, v]) => [pyTyped(keyType, k), pyTyped(valueType, v)]));
    }
    case z.ZodFirstPartyTypeKind.ZodUnion:
    case z.ZodFirstPartyTypeKind.ZodDiscriminatedUnion:
      return typedUnion(def.options as readonly z.ZodTypeAny[] | Map<unknown, z.ZodTypeAny>, value);
    default:
      return value;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat) && !(v instanceof Map);
}

/** Marks a ZodTuple def as a Python `tuple[...]` (a def property survives zod's clones: .describe, .optional…). */
const PY_TUPLE: unique symbol = Symbol('python tuple');

/**
 * A field typed `tuple[...]` in Python: `pyTuple([z.number().int(), z.number()])` is `tuple[int, float]`,
 * `pyTuple([], z.number().int())` is `tuple[int, ...]`. Values are JS arrays (JSON arrays on the wire);
 * the body hash prints them as Python does, `(3, 2.0)` and `(3,)`.
 */
export function pyTuple<T extends [] | [z.ZodTypeAny, ...z.ZodTypeAny[]], R extends z.ZodTypeAny | null = null>(
  items: T,
  rest?: R,
): z.ZodTuple<T, R> {
  const base = rest ? z.tuple(items).rest(rest) : z.tuple(items);
  return new z.ZodTuple({ ...base._def, [PY_TUPLE]: true } as unknown as z.ZodTupleDef<T, R>);
}

/** What pydantic's lax int accepts from a JSON key: `3`, ` 3`, `+3`, `03`, `3.0`. */
const INT_KEY = /^\s*([+-]?)(\d+)(?:\.0*)?\s*$/;

/** Entries of a dict value in wire order, JSON's string keys turned into ints where the key type is int. */
function mapEntries(keyType: z.ZodTypeAny, value: unknown): Array<[unknown, unknown]> | undefined {
  if (value instanceof Map) return [...value];
  if (!isRecord(value)) return undefined;
  const { kind, isInt } = baseKind(keyType);
  const intKeys = isInt || kind === z.ZodFirstPartyTypeKind.ZodBigInt;
  return orderedKeys(value).map((k) => [intKeys && INT_KEY.test(k) ? intKey(k, kind) : k, value[k]]);
}

function intKey(k: string, kind: string | undefined): number | bigint {
  const m = INT_KEY.exec(k) as RegExpExecArray;
  const big = BigInt(`${m[1] === '-' ? '-' : ''}${m[2]}`);
  if (kind === z.ZodFirstPartyTypeKind.ZodBigInt) return big;
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

/** zod preprocess: a JSON object (wire order kept) → Map; a Map passes through. */
function toMap(keyType: z.ZodTypeAny): (v: unknown) => unknown {
  return (v) => {
    const entries = mapEntries(keyType, v);
    return entries === undefined || v instanceof Map ? v : new Map(entries);
  };
}

/**
 * A field typed `dict[str, V]` whose key order matters for the body hash (Python keeps insertion order,
 * JS objects move integer-like keys first). Accepts a Map or a JSON object and yields a `Map<string, V>` in
 * wire order; pass a Map when building a request so your order is the one sent and hashed.
 */
export function pyDict<V extends z.ZodTypeAny>(value: V): z.ZodEffects<z.ZodMap<z.ZodString, V>, Map<string, z.output<V>>, unknown> {
  const keyType = z.string();
  return z.preprocess(toMap(keyType), z.map(keyType, value));
}

/**
 * A field typed `dict[int, V]` (per-uid scores): a `Map<number, V>` in insertion order, sent as a JSON object
 * with `"3"` keys and hashed as Python prints it, `{3: 0.5, 1: 0.25}`. JSON keys are read as pydantic does
 * (`"03"`, `" 3"`, `"+3"`, `"3.0"` are 3; a repeated key keeps its first position and its last value).
 */
export function pyIntDict<V extends z.ZodTypeAny>(value: V): z.ZodEffects<z.ZodMap<z.ZodNumber, V>, Map<number, z.output<V>>, unknown> {
  const keyType = z.number().int();
  return z.preprocess(toMap(keyType), z.map(keyType, value));
}

function isIntSchema(schema: z.ZodNumber): boolean {
  return schema._def.checks.some((c) => c.kind === 'int');
}

function typedNumber(isInt: boolean, value: unknown): unknown {
  const x = value instanceof PyFloat ? value.value : value;
  if (typeof x === 'bigint') return isInt ? x : new PyFloat(Number(x));
  if (typeof x !== 'number') return value;
  if (!isInt) return new PyFloat(x);
  // pydantic's lax int accepts 1.0 → 1; anything else is left as is (validation will reject it)
  return Number.isInteger(x) ? x : value;
}

/** Base kind of a schema after unwrapping optional/nullable/default/effects (used to pick fast printers too). */
export function baseKind(schema: z.ZodTypeAny): { kind: string | undefined; isInt: boolean } {
  let s = schema;
  for (;;) {
    const def = s._def as { typeName?: string } & Record<string, unknown>;
    if (def.innerType) s = def.innerType as z.ZodTypeAny;
    else if (def.typeName === z.ZodFirstPartyTypeKind.ZodEffects) s = def.schema as z.ZodTypeAny;
    else return { kind: def.typeName, isInt: def.typeName === z.ZodFirstPartyTypeKind.ZodNumber && isIntSchema(s as z.ZodNumber) };
  }
}

/** pydantic smart-mode unions: an exact int match wins, else float; containers take the first option that validates. */
function typedUnion(options: readonly z.ZodTypeAny[] | Map<unknown, z.ZodTypeAny>, value: unknown): unknown {
  const opts = options instanceof Map ? [...options.values()] : [...options];
  const raw = value instanceof PyFloat ? value.value : value;
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    const kinds = opts.map(baseKind);
    const hasInt = kinds.some((k) => k.isInt || k.kind === z.ZodFirstPartyTypeKind.ZodBigInt);
    const hasFloat = kinds.some((k) => k.kind === z.ZodFirstPartyTypeKind.ZodNumber && !k.isInt);
    const integral = !(value instanceof PyFloat) && (typeof raw === 'bigint' || Number.isInteger(raw));
    if (integral && hasInt) return raw;
    if (hasFloat) return new PyFloat(Number(raw));
    return value;
  }
  const plain = stripPyFloats(value);
  for (const o of opts) {
    if (o.safeParse(plain).success) return pyTyped(o, value);
  }
  return value;
}

/**
 * How the float fields of a body are described: a zod object schema (exact, recommended) or a list of
 * top-level field names whose every number is a float (for hand-written callers).
 */
export type FloatFields = z.ZodTypeAny | readonly string[];

/** Type one top-level field of a body according to `floatFields`. */
export function typedField(floatFields: FloatFields | undefined, field: string, value: unknown): unknown {
  if (floatFields === undefined) return value;
  if (Array.isArray(floatFields)) return floatFields.includes(field) ? allFloats(value) : value;
  const schema = floatFields as z.ZodTypeAny;
  if (schema instanceof z.ZodObject) {
    const shape = (schema as z.ZodObject<z.ZodRawShape>).shape;
    return field in shape ? pyTyped(shape[field], value) : value;
  }
  return value;
}
