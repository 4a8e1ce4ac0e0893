import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

/**
 * Run CPython as the oracle: `python3 -c CODE` with a JSON request on stdin, JSON answer on stdout.
 * Everything is exchanged as ASCII JSON so lone surrogates and non-BMP text survive the pipe.
 */
export function runPython<T>(code: string, input: unknown): T {
  const out = execFileSync('python3', ['-c', code], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
  });
  return JSON.parse(out) as T;
}

/** For each JSON text: str(), repr(), json.dumps() default and FastAPI-style compact of json.loads(text). */
export const PY_VALUES = `
import json, sys
texts = json.load(sys.stdin)
out = []
for t in texts:
    v = json.loads(t)
    out.append({"str": str(v), "repr": repr(v), "dumps": json.dumps(v),
                "compact": json.dumps(v, separators=(",", ":"), ensure_ascii=False)})
json.dump(out, sys.stdout)
`;

/** Code points (as [start, end] ranges) for which chr(cp).isprintable() is true in this Python. */
export const PY_PRINTABLE_RANGES = `
import json, sys
ranges = []
start = None
for cp in range(0x110000):
    p = chr(cp).isprintable()
    if p and start is None:
        start = cp
    elif not p and start is not None:
        ranges.append([start, cp - 1]); start = None
if start is not None:
    ranges.append([start, 0x10FFFF])
import unicodedata
json.dump({"ranges": ranges, "unicode": unicodedata.unidata_version}, sys.stdout)
`;

/** Python's unicodedata.category for a list of code points. */
export const PY_CATEGORIES = `
import json, sys, unicodedata
json.dump([unicodedata.category(chr(c)) for c in json.load(sys.stdin)], sys.stdout)
`;

/** python3 on PATH? Tests that need it fail under CI=true without it and skip loudly elsewhere (see `requirePython`). */
export const HAS_PYTHON = spawnSync('python3', ['-c', 'import hashlib, json, typing'], { stdio: 'ignore' }).status === 0;

/** False (and a failing test under CI=true, a loud skip otherwise) when python3 is missing. */
export function requirePython(suite: string): boolean {
  if (HAS_PYTHON) return true;
  const missing = `python3 is not installed; ${suite} compares against live CPython (apt-get install python3)`;
  if (process.env.CI === 'true') {
    describe(suite, () => {
      it('requires python3 under CI', () => {
        throw new Error(missing);
      });
    });
  } else process.stderr.write(`\n*** SKIPPED: ${missing} ***\n\n`);
  return false;
}

/**
 * The SDK's view of typed synapse fields. Input `{ types: {field: "tuple[int, float]" …}, hashFields, bodies }`
 * (bodies are JSON texts, as a dendrite sends them). For each body, the values are converted to the declared
 * Python types (json.loads keeps key order; dict keys converted too) and the answer holds `str()` of each field,
 * `Synapse.body_hash` over hashFields (sha3 of the joined sha3 hex digests of `str(value)`), `json.dumps` of the
 * converted fields, and — when pydantic is installed — `str()` of pydantic's `model_dump()` for the same model.
 */
export const PY_TYPED_FIELDS = `
import hashlib, json, sys, typing
req = json.load(sys.stdin)
scope = {"tuple": tuple, "dict": dict, "list": list, "int": int, "float": float, "str": str, "bool": bool}
types = {f: eval(t, scope) for f, t in req["types"].items()}
def conv(v, t):
    o, a = typing.get_origin(t), typing.get_args(t)
    if o is tuple:
        if len(a) == 2 and a[1] is Ellipsis:
            return tuple(conv(x, a[0]) for x in v)
        if len(v) != len(a):
            raise ValueError("tuple length")
        return tuple(conv(x, s) for x, s in zip(v, a))
    if o is list:
        return [conv(x, a[0]) for x in v]
    if o is dict:
        out = {}
        for k, x in v.items():
            out[conv(k, a[0])] = conv(x, a[1])
        return out
    if t is float:
        return float(v)
    if t is int:
        return int(v)
    return v
try:
    import pydantic
    Model = pydantic.create_model("Typed", **{f: (t, ...) for f, t in types.items()})
except ImportError:
    Model = None
sha = lambda s: hashlib.sha3_256(s.encode()).hexdigest()
out = []
for text in req["bodies"]:
    raw = json.loads(text)
    vals = {f: conv(raw[f], t) for f, t in types.items()}
    strs = {f: str(v) for f, v in vals.items()}
    pyd = None
    if Model is not None:
        dump = Model.model_validate_json(text).model_dump()
        pyd = {f: str(dump[f]) for f in types}
    out.append({"str": strs, "hash": sha("".join(sha(strs[f]) for f in req["hashFields"])),
                "dumps": json.dumps(vals), "pydantic": pyd})
json.dump(out, sys.stdout)
`;

export interface PyTypedAnswer {
  str: Record<string, string>;
  hash: string;
  dumps: string;
  pydantic: Record<string, string> | null;
}
