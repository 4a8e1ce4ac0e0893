import { z } from 'zod';
import { PyFloat, allFloats, stripPyFloats } from './python.ts';

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
      return value.map((v, i) => (i < items.length ? pyTyped(items[i], v) : rest ? pyTyped(rest, v) : v));
    }
    case z.ZodFirstPartyTypeKind.ZodObject: {
      if (!isRecord(value)) return value;
      const shape = (schema as z.ZodObject<z.ZodRawShape>).shape;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = k in shape ? pyTyped(shape[k], v) : v;
      return out;
    }
    case z.ZodFirstPartyTypeKind.ZodRecord: {
      if (!isRecord(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = pyTyped(def.valueType as z.ZodTypeAny, v);
      return out;
    }
    case z.ZodFirstPartyTypeKind.ZodUnion:
    case z.ZodFirstPartyTypeKind.ZodDiscriminatedUnion:
      return typedUnion(def.options as readonly z.ZodTypeAny[] | Map<unknown, z.ZodTypeAny>, value);
    default:
      return value;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
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
