import { z } from 'zod';

/**
 * A synapse is one request/response route, named like the Python SDK's Synapse subclass (`POST /{name}`).
 * On the wire the body is the whole synapse as Python's `model_dump()` would produce it: the request
 * fields, the response fields (null until the miner fills them), and the SDK's bookkeeping fields
 * (`name`, `timeout`, `total_size`, `header_size`, `dendrite`, `axon`, `computed_body_hash`,
 * `required_hash_fields`).
 */
export interface SynapseDef<
  Req extends z.ZodRawShape = z.ZodRawShape,
  Res extends z.ZodRawShape = z.ZodRawShape,
> {
  /** Route and Python class name, e.g. `PuzzleSynapse`. Must match /^[A-Za-z_][A-Za-z0-9_]*$/. */
  readonly name: string;
  /** Fields the validator sends. */
  readonly request: z.ZodObject<Req>;
  /** Fields the miner fills in (each is null/absent in the request body). */
  readonly response: z.ZodObject<Res>;
  /** Request fields covered by the body hash (Python `required_hash_fields`). */
  readonly requiredHashFields: readonly (keyof Req & string)[];
  /** True for StreamingSynapse routes (the miner answers with a stream of chunks). */
  readonly streaming: boolean;
}

export type RequestOf<S extends SynapseDef> = z.infer<S['request']>;
export type ResponseOf<S extends SynapseDef> = z.infer<S['response']>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Fields of the SDK's base Synapse; a subclass field with one of these names would clash on the wire. */
export const RESERVED_SYNAPSE_FIELDS: readonly string[] = Object.freeze([
  'name', 'timeout', 'total_size', 'header_size', 'dendrite', 'axon', 'computed_body_hash', 'required_hash_fields',
]);

export function defineSynapse<Req extends z.ZodRawShape, Res extends z.ZodRawShape>(def: {
  name: string;
  request: z.ZodObject<Req>;
  response: z.ZodObject<Res>;
  requiredHashFields?: readonly (keyof Req & string)[];
  streaming?: boolean;
}): SynapseDef<Req, Res> {
  if (!NAME.test(def.name)) throw new Error(`invalid synapse name '${def.name}': must be a Python identifier`);
  const overlap = Object.keys(def.request.shape).filter((k) => k in def.response.shape);
  if (overlap.length > 0) throw new Error(`synapse ${def.name}: fields in both request and response: ${overlap.join(', ')}`);
  const reserved = [...Object.keys(def.request.shape), ...Object.keys(def.response.shape)].filter((k) => RESERVED_SYNAPSE_FIELDS.includes(k));
  if (reserved.length > 0) throw new Error(`synapse ${def.name}: field names reserved by the SDK's Synapse: ${reserved.join(', ')}`);
  for (const f of def.requiredHashFields ?? []) {
    if (!(f in def.request.shape)) throw new Error(`synapse ${def.name}: required hash field '${f}' is not a request field`);
  }
  return Object.freeze({
    name: def.name,
    request: def.request,
    response: def.response,
    requiredHashFields: Object.freeze([...(def.requiredHashFields ?? [])]),
    streaming: def.streaming ?? false,
  });
}
