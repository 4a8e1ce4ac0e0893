import { execFileSync } from 'node:child_process';

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
