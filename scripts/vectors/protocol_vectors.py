#!/usr/bin/env python3
"""Wire-protocol vectors computed by CPython, checked by test/protocol/vectors.test.ts.

Why: the SDK hashes `str(model_dump()[field])` and sends `json.dumps(model_dump())`, so our TypeScript must
reproduce CPython's str()/repr(), float repr and json.dumps byte for byte. Each value is given as JSON text
(json.loads keeps the int/float distinction: `1` is an int, `1.0` a float).

The `synapse` section uses a pydantic model with the same base fields, types and defaults as the SDK's
Synapse/TerminalInfo (bittensor v10 `core/synapse.py`, spec §4), so it shows what pydantic coerces
(a `float` field given 1 dumps 1.0) and the model_dump field order.

Usage: python3 scripts/vectors/protocol_vectors.py > test/protocol/fixtures/python-vectors.json
"""
import base64
import hashlib
import json
import sys
import unicodedata
from typing import Any, Optional

VALUES = [
    # strings: quote choice, escapes, isprintable() classes
    '"plain"', '""', '"it\'s"', '"say \\"hi\\""', '"both \' and \\""', '"back\\\\slash"',
    '"\\n\\r\\t\\u0000\\u0007\\u001f\\u007f"', '"\\u0080\\u009f\\u00a0\\u00ad\\u00e9\\u00ff"',
    '"\\u2028\\u2029\\u200b\\ufeff\\u3000\\u0378"', '"\\ue000 private"', '"\\ud83d\\ude00 emoji"',
    '"\\udb40\\udc01 tag"', '"\\udbff\\udfff"', '"\\ud800 lone"', '"中文 Ελληνικά"', '"\\u00a0\'\\""',
    # ints, including beyond 2^53
    '0', '-0', '1', '-1', '9007199254740993', '123456789012345678901234567890', '-12345678901234567890',
    # floats: repr switches to exponent below 1e-4 and from 1e16
    '1.0', '-0.0', '0.1', '1e-07', '1e16', '1e15', '1.5e300', '5e-324', '1.7976931348623157e308',
    '123456.789', '0.0001', '0.00001', '1e22', '2.5', '100.0', '1e400', '-1e400', '3.0e-5', '0.30000000000000004',
    # constants and containers
    'true', 'false', 'null', '[]', '{}', '[1, 2.0, "a", null, true]',
    '{"a": 1, "b": [1.5, {"c": null, "d": false}], "e": {"f": "x\'y"}}',
    '{"k\'ey": "v\\"al", "é": [], "z": {}}', '[[[]], [{}], [[1.0]]]',
]

BODIES = [
    {"body": '{}', "fields": [], "floats": []},
    {"body": '{"a": "hello"}', "fields": ["a"], "floats": []},
    {"body": '{"a": 1, "b": [1, 2], "c": true}', "fields": ["a", "b", "c"], "floats": []},
    {"body": '{"a": 1, "b": [1, 2], "c": true}', "fields": ["a", "b"], "floats": ["b"]},
    {"body": '{"x": {"k": [1.0, null, "s\'"]}, "y": "héllo\\n"}', "fields": ["y", "x"], "floats": []},
    {"body": '{"n": 123456789012345678901234567890, "f": 1e-07}', "fields": ["n", "f"], "floats": []},
]

VERSIONS = ["10.2.0", "7.2.0", "0.0.1", "9.12.3", "999.999.999"]


def all_floats(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, list):
        return [all_floats(x) for x in v]
    return {k: all_floats(x) for k, x in v.items()}


def sha3(s: str):
    try:
        return hashlib.sha3_256(s.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate: the SDK itself would fail here
        return None


def value_vector(text):
    v = json.loads(text)
    return {
        "json": text,
        "str": str(v),
        "repr": repr(v),
        "dumps": json.dumps(v),
        "dumps_compact_utf8": json.dumps(v, separators=(",", ":"), ensure_ascii=False),
        "sha3_str": sha3(str(v)),
    }


def body_vector(case):
    body = json.loads(case["body"])
    hashes = []
    for f in case["fields"]:
        value = all_floats(body[f]) if f in case["floats"] else body[f]
        hashes.append(sha3(str(value)))
    return {**case, "hash": sha3("".join(hashes))}


def version_as_int(v):
    parts = [int(p) for p in v.split(".")]
    return sum(e * (1000 ** i) for i, e in enumerate(reversed(parts)))


def synapse_vector():
    try:
        from pydantic import BaseModel, Field
    except ImportError:
        return None

    class TerminalInfo(BaseModel):
        status_code: Optional[int] = None
        status_message: Optional[str] = None
        process_time: Optional[float] = None
        ip: Optional[str] = None
        port: Optional[int] = None
        version: Optional[int] = None
        nonce: Optional[int] = None
        uuid: Optional[str] = None
        hotkey: Optional[str] = None
        signature: Optional[str] = None

    class Synapse(BaseModel):
        name: Optional[str] = None
        timeout: Optional[float] = 12.0
        total_size: Optional[int] = 0
        header_size: Optional[int] = 0
        dendrite: Optional[TerminalInfo] = TerminalInfo()
        axon: Optional[TerminalInfo] = TerminalInfo()
        computed_body_hash: Optional[str] = Field(default="", frozen=True)

    class VecSynapse(Synapse):
        prompt: str
        weights: list[float]
        seed: int
        meta: dict[str, Any] = {}
        temperature: float = 0.7
        completion: Optional[str] = None
        scores: Optional[list[float]] = None

    required_hash_fields = ("prompt", "weights", "seed", "meta")
    request = json.loads('{"prompt": "héllo \'x\'\\n", "weights": [1, 0.5, 2], "seed": 42, "meta": {"a": 1.0, "b": [1, 2]}}')
    syn = VecSynapse(
        name="VecSynapse",
        timeout=7,
        dendrite=TerminalInfo(ip="0.0.0.0", version=10002000, nonce=1763780000123456789,
                              uuid="5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a",
                              hotkey="5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", signature="0xab"),
        axon=TerminalInfo(ip="127.0.0.1", port=8091, hotkey="5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"),
        **request,
    )
    dump = syn.model_dump()
    body_hash = sha3("".join(sha3(str(dump[f])) for f in required_hash_fields))
    required = VecSynapse.model_json_schema().get("required", [])
    input_obj = {
        f: base64.b64encode(json.dumps(v.__class__()).encode()).decode()
        for f, v in dump.items() if f in required and v is not None
    }
    return {
        "request_json": json.dumps(request),
        "timeout_header": str(syn.timeout),
        "wire_body": json.dumps(dump),
        "field_order": list(dump.keys()),
        "body_hash": body_hash,
        "input_obj": input_obj,
    }


def main():
    out = {
        "generator": "scripts/vectors/protocol_vectors.py",
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "values": [value_vector(t) for t in VALUES],
        "bodies": [body_vector(c) for c in BODIES],
        "versions": [{"version": v, "int": version_as_int(v)} for v in VERSIONS],
        "synapse": synapse_vector(),
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
