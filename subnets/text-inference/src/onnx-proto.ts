/**
 * A minimal ONNX protobuf writer: just the messages a decoder graph needs (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto), with field numbers from onnx/onnx.proto.
 * Writing ~15 fields by hand is smaller than shipping a protobuf runtime plus the .proto schema.
 * The one thing read back is a model's metadata (onnxruntime-node does not expose it).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

class Writer {
  private parts: Uint8Array[] = [];
  private size = 0;
  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
  private varint(v: bigint): void {
    const out: number[] = [];
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }
  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  int(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.varint(BigInt(v));
    return this;
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(b.length));
    this.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9, FLOAT16: 10, BFLOAT16: 16 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

export type AttrValue = number | string | number[] | { float: number } | { tensor: TensorDef };
export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}
export interface TensorDef {
  name: string;
  type: DataTypeId;
  dims: number[];
  /** FLOAT: Float32Array; INT64: BigInt64Array. Stored as raw_data (little endian). */
  data: Float32Array | BigInt64Array;
}
/** A graph input/output; a string dim is symbolic (`batch`, `past_sequence_length`). */
export interface ValueDef {
  name: string;
  type: DataTypeId;
  dims: Array<number | string>;
}
export interface ModelDef {
  nodes: NodeDef[];
  initializers: TensorDef[];
  inputs: ValueDef[];
  outputs: ValueDef[];
  opset: number;
  producer: string;
  metadata: Record<string, string>;
}

function tensor(t: TensorDef): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type).string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function attribute(name: string, v: AttrValue): Writer {
  const w = new Writer().string(1, name);
  // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, INTS 7
  if (typeof v === 'number') return w.int(3, v).int(20, 2);
  if (typeof v === 'string') return w.string(4, v).int(20, 3);
  if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    return w.int(20, 7);
  }
  if ('float' in v) return w.float(2, v.float).int(20, 1);
  return w.message(5, tensor(v.tensor)).int(20, 4);
}

function valueInfo(v: ValueDef): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, v.type).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

/** Serialize a model (IR version 8) to ONNX protobuf bytes. */
export function encodeModel(m: ModelDef): Uint8Array {
  const graph = new Writer();
  m.nodes.forEach((n, i) => {
    const w = new Writer();
    for (const x of n.inputs) w.string(1, x);
    for (const x of n.outputs) w.string(2, x);
    w.string(3, n.name ?? `${n.op}_${i}`).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attribute(k, v));
    graph.message(1, w);
  });
  graph.string(2, 'decoder');
  for (const t of m.initializers) graph.message(5, tensor(t));
  for (const v of m.inputs) graph.message(11, valueInfo(v));
  for (const v of m.outputs) graph.message(12, valueInfo(v));
  const model = new Writer().int(1, 8).string(2, m.producer).string(3, '1').message(7, graph);
  model.message(8, new Writer().string(1, '').int(2, m.opset));
  for (const [k, v] of Object.entries(m.metadata)) model.message(14, new Writer().string(1, k).string(2, v));
  return model.finish();
}

/**
 * The `metadata_props` of an ONNX file (ModelProto field 14), read by skipping over the other top-level
 * fields with positioned reads: the graph (and its weights) is never loaded, so this is cheap for any size.
 * Returns {} for a file that is not a well-formed ModelProto at the top level.
 */
export function readOnnxMetadata(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(20);
    const out: Record<string, string> = {};
    let pos = 0;
    while (pos < size) {
      const n = readSync(fd, head, 0, head.length, pos);
      const key = readVarint(head, 0, n);
      if (key === null) return out;
      const wire = key.value % 8;
      const field = Math.floor(key.value / 8);
      if (wire === 0) {
        const v = readVarint(head, key.next, n);
        if (v === null) return out;
        pos += v.next;
      } else if (wire === 2) {
        const len = readVarint(head, key.next, n);
        if (len === null || pos + len.next + len.value > size) return out;
        if (field === 14 && len.value <= 1 << 20) {
          const entry = Buffer.alloc(len.value);
          readSync(fd, entry, 0, len.value, pos + len.next);
          const kv = readStringEntry(entry);
          if (kv) out[kv[0]] = kv[1];
        }
        pos += len.next + len.value;
      } else return out; // ModelProto has only varint and length-delimited fields
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A protobuf varint in buf[at, end) (up to 2^53), or null if it does not end there. */
function readVarint(buf: Uint8Array, at: number, end: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = at; i < end && i < at + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) return { value, next: i + 1 };
  }
  return null;
}

/** StringStringEntryProto: key = field 1, value = field 2. */
function readStringEntry(buf: Buffer): [string, string] | null {
  let k: string | null = null;
  let v = '';
  let at = 0;
  while (at < buf.length) {
    const key = readVarint(buf, at, buf.length);
    if (key === null || key.value % 8 !== 2) return null;
    const len = readVarint(buf, key.next, buf.length);
    if (len === null || len.next + len.value > buf.length) return null;
    const s = buf.toString('utf8', len.next, len.next + len.value);
    if (key.value >> 3 === 1) k = s;
    else if (key.value >> 3 === 2) v = s;
    at = len.next + len.value;
  }
  return k === null ? null : [k, v];
}
