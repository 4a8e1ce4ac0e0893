import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  EMPTY_BODY_HASH, PROTOCOL_VERSION, ProtocolError, STATUS_MESSAGE, bodyHash, buildSynapseBody, defineSynapse, newUuid,
  nowNanos, parseHeaders, parsePyJson, parseSynapseBody, parseSynapseResponse, serializeSynapseBody, serializeSynapseMeta, signRequest,
  signingMessage, synapseBodyHash, toHeaders, verifyRequestSignature, versionAsInt, type RequestOf,
} from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, sign, u8aToHex } from '../../framework/wallet/keypair.ts';
import { runPython } from './python-oracle.ts';

const vectors = JSON.parse(readFileSync(new URL('./fixtures/python-vectors.json', import.meta.url), 'utf8')) as {
  bodies: Array<{ body: string; fields: string[]; floats: string[]; hash: string }>;
  versions: Array<{ version: string; int: number }>;
  synapse: { request_json: string; timeout_header: string; wire_body: string; field_order: string[]; body_hash: string; input_obj: Record<string, string> };
};

// Same fields, types and defaults as VecSynapse in scripts/vectors/protocol_vectors.py.
const VecSynapse = defineSynapse({
  name: 'VecSynapse',
  request: z.object({
    prompt: z.string(),
    weights: z.array(z.number()),
    seed: z.number().int(),
    meta: z.record(z.unknown()).default({}),
    temperature: z.number().default(0.7),
  }),
  response: z.object({ completion: z.string(), scores: z.array(z.number()).nullable().optional() }),
  requiredHashFields: ['prompt', 'weights', 'seed', 'meta'],
});

const DENDRITE = { ip: '0.0.0.0', version: 10002000, nonce: 1763780000123456789n, uuid: '5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a', hotkey: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', signature: '0xab' };
const AXON = { ip: '127.0.0.1', port: 8091, hotkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty' };

function vectorBody() {
  const request = parsePyJson(vectors.synapse.request_json) as RequestOf<typeof VecSynapse>;
  return buildSynapseBody(VecSynapse, request, { timeout: 7, dendrite: DENDRITE, axon: AXON });
}

describe('body hash', () => {
  it('sha3("") for no fields', () => {
    expect(bodyHash({ a: 1 }, [])).toBe(EMPTY_BODY_HASH);
  });
  it.each(vectors.bodies.map((b) => [b.body, b] as const))('matches CPython for %s', (_t, b) => {
    expect(bodyHash(parsePyJson(b.body) as Record<string, unknown>, b.fields, b.floats)).toBe(b.hash);
  });
  it('changes when a hashed field changes and not otherwise', () => {
    const body = vectorBody();
    const h = synapseBodyHash(VecSynapse, body);
    expect(synapseBodyHash(VecSynapse, { ...body, seed: 43 })).not.toBe(h);
    expect(synapseBodyHash(VecSynapse, { ...body, temperature: 0.1 })).toBe(h);
  });
});

describe('synapse body and headers (pydantic model shaped like the SDK Synapse)', () => {
  it('builds model_dump() in pydantic field order and serializes like json.dumps', () => {
    const body = vectorBody();
    expect(Object.keys(body)).toEqual(vectors.synapse.field_order);
    expect(serializeSynapseBody(VecSynapse, body)).toBe(vectors.synapse.wire_body);
    const { name, timeout, total_size, header_size, dendrite, axon, computed_body_hash } = body;
    const meta = serializeSynapseMeta({ name, timeout, total_size, header_size, dendrite, axon, computed_body_hash });
    expect(vectors.synapse.wire_body.startsWith(meta.slice(0, -1) + ', ')).toBe(true);
    const filled = { ...body, timeout: 1e-7, axon: { ...body.axon, status_code: 200, status_message: "é'\"", process_time: 2 } };
    const m2 = serializeSynapseMeta({ ...filled, name: 'VecSynapse' });
    expect(serializeSynapseBody(VecSynapse, filled).startsWith(m2.slice(0, -1) + ', ')).toBe(true);
    expect(m2).toContain('"timeout": 1e-07');
    expect(m2).toContain('"process_time": 2.0');
    expect(synapseBodyHash(VecSynapse, body)).toBe(vectors.synapse.body_hash);
  });

  it('to_headers: order, str() values and input_obj for required fields', () => {
    const body = vectorBody();
    const h = toHeaders(VecSynapse, body);
    expect(Object.keys(h)).toEqual([
      'name', 'timeout',
      'bt_header_axon_ip', 'bt_header_axon_port', 'bt_header_axon_hotkey',
      'bt_header_dendrite_ip', 'bt_header_dendrite_version', 'bt_header_dendrite_nonce', 'bt_header_dendrite_uuid',
      'bt_header_dendrite_hotkey', 'bt_header_dendrite_signature',
      'bt_header_input_obj_prompt', 'bt_header_input_obj_weights', 'bt_header_input_obj_seed',
      'header_size', 'total_size', 'computed_body_hash',
    ]);
    expect(h.timeout).toBe(vectors.synapse.timeout_header);
    expect(h.bt_header_dendrite_nonce).toBe('1763780000123456789');
    expect(h.bt_header_axon_port).toBe('8091');
    for (const [f, v] of Object.entries(vectors.synapse.input_obj)) expect(h[`bt_header_input_obj_${f}`]).toBe(v);
    expect(h.computed_body_hash).toBe(vectors.synapse.body_hash);
  });

  it('parseHeaders round-trips and keeps the ns nonce exact', () => {
    const body = vectorBody();
    const parsed = parseHeaders(toHeaders(VecSynapse, { ...body, axon: { ...AXON, status_code: 200, process_time: 0.25 } }));
    expect(parsed.name).toBe('VecSynapse');
    expect(parsed.timeout).toBe(7);
    expect(parsed.dendrite).toEqual({ status_code: null, status_message: null, process_time: null, port: null, ...DENDRITE });
    expect(parsed.axon.status_code).toBe(200);
    expect(parsed.axon.process_time).toBe(0.25);
    expect(parsed.inputObj).toEqual({ prompt: '', weights: [], seed: 0 });
    expect(parsed.computed_body_hash).toBe(vectors.synapse.body_hash);
  });

  it('parseHeaders rejects values Python could not cast, with a 400', () => {
    for (const bad of [{ bt_header_dendrite_nonce: '12abc' }, { bt_header_axon_port: '1.5' }, { timeout: 'soon' }, { bt_header_axon_process_time: 'x' }]) {
      try {
        parseHeaders({ name: 'X', ...bad });
        expect.fail(`accepted ${JSON.stringify(bad)}`);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).status).toBe(400);
      }
    }
    // Python casts these fine: whitespace, exponent floats, 'inf'
    const ok = parseHeaders({ bt_header_dendrite_nonce: ' 17 ', bt_header_axon_process_time: '1e-3', timeout: '12' });
    expect(ok.dendrite.nonce).toBe(17n);
    expect(ok.axon.process_time).toBe(0.001);
  });

  it('parseSynapseBody validates the request and keeps the raw body for hashing', () => {
    const parsed = parseSynapseBody(VecSynapse, vectors.synapse.wire_body);
    expect(parsed.request.prompt).toBe("héllo 'x'\n");
    expect(parsed.request.weights).toEqual([1, 0.5, 2]);
    expect(parsed.meta.dendrite.nonce).toBe(1763780000123456789n);
    expect(parsed.meta.timeout).toBe(7);
    expect(synapseBodyHash(VecSynapse, parsed.raw)).toBe(vectors.synapse.body_hash);
    expect(() => parseSynapseBody(VecSynapse, '{"prompt": 5}')).toThrow(ProtocolError);
    expect(() => parseSynapseBody(VecSynapse, '[1]')).toThrow(/JSON object/);
    expect(() => parseSynapseBody(VecSynapse, '{"pro')).toThrow(/not valid JSON/);
  });

  it('parseSynapseResponse requires valid response fields (422 otherwise)', () => {
    const body = { ...vectorBody(), completion: 'done', scores: [0.5] };
    const wire = serializeSynapseBody(VecSynapse, body, { compact: true, ensureAscii: false });
    expect(parseSynapseResponse(VecSynapse, wire).response).toEqual({ completion: 'done', scores: [0.5] });
    const unfilled = serializeSynapseBody(VecSynapse, vectorBody());
    try {
      parseSynapseResponse(VecSynapse, unfilled);
      expect.fail('accepted a response with completion=None');
    } catch (e) {
      expect((e as ProtocolError).status).toBe(422);
    }
  });

  it('defineSynapse rejects field names reserved by the SDK Synapse', () => {
    expect(() => defineSynapse({ name: 'Bad', request: z.object({ timeout: z.number() }), response: z.object({}) })).toThrow(/reserved/);
  });
});

describe('signature', () => {
  beforeAll(() => cryptoReady());
  it('signs the SDK message with the hotkey and verifies (also <Bytes>-wrapped)', () => {
    const alice = keypairFromUri('//Alice');
    const p = { nonce: 1763780000123456789n, dendriteHotkey: alice.ss58Address, axonHotkey: AXON.hotkey, uuid: DENDRITE.uuid, bodyHash: vectors.synapse.body_hash };
    expect(signingMessage(p)).toBe(`1763780000123456789.${alice.ss58Address}.${AXON.hotkey}.${DENDRITE.uuid}.${vectors.synapse.body_hash}`);
    const sig = signRequest(alice, p);
    expect(sig).toMatch(/^0x[0-9a-f]{128}$/);
    expect(verifyRequestSignature(p, sig)).toBe(true);
    expect(verifyRequestSignature({ ...p, nonce: 1763780000123456790n }, sig)).toBe(false);
    expect(verifyRequestSignature({ ...p, bodyHash: EMPTY_BODY_HASH }, sig)).toBe(false);
    expect(verifyRequestSignature(p, '0xzz')).toBe(false);
    const wrapped = u8aToHex(sign(alice, `<Bytes>${signingMessage(p)}</Bytes>`));
    expect(verifyRequestSignature(p, wrapped)).toBe(true);
  });
});

describe('versions, uuids, nonces, messages', () => {
  it.each(vectors.versions.map((v) => [v.version, v.int] as const))('versionAsInt(%s) = %d', (v, n) => {
    expect(versionAsInt(v)).toBe(n);
  });
  it('PROTOCOL_VERSION is the SDK 10.2.0 int', () => {
    expect(PROTOCOL_VERSION).toBe(10002000);
    expect(() => versionAsInt('1.2')).toThrow();
  });
  it('newUuid is a unique RFC 4122 version-1 uuid, timestamped now', () => {
    const ids = Array.from({ length: 1000 }, newUuid);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids.slice(0, 20)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Python decodes the timestamp: uuid.UUID(u).time is 100ns since 1582
    const py = runPython<number[]>(`
import json, sys, uuid
json.dump([(uuid.UUID(u).time - 0x01b21dd213814000) // 10000 for u in json.load(sys.stdin)], sys.stdout)`, ids.slice(0, 3));
    for (const ms of py) expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
  });
  it('nowNanos is unix ns and strictly increasing', () => {
    const a = nowNanos();
    const b = nowNanos();
    expect(b > a).toBe(true);
    expect(Number(a / 1_000_000n) - Date.now()).toBeLessThan(50);
    expect(Math.abs(Number(a / 1_000_000n) - Date.now())).toBeLessThan(1000);
  });
  it('status messages are the SDK f-strings', () => {
    const py = runPython<string[]>(`
import json, sys
t = 12.0
names = ['A', "it's"]
json.dump([f"Synapse name 'X' not found. Available synapses {names}",
           f"Request timeout after {t} seconds", f"Response timeout after: {t}s",
           f"Nonce is too old: acceptable delta is {16.0:.2f} seconds but request was {17.123:.2f} seconds old"], sys.stdout)`, null);
    expect([
      STATUS_MESSAGE.notFound('X', ['A', "it's"]),
      STATUS_MESSAGE.requestTimeout(12),
      STATUS_MESSAGE.priorityTimeout(12),
      STATUS_MESSAGE.nonceTooOld(16, 17.123),
    ]).toEqual(py);
  });
});

describe('parseResponseFields (dendrite hot path)', () => {
  const Big = defineSynapse({ name: 'Big', request: z.object({}), response: z.object({ total: z.bigint(), ratio: z.number() }) });
  it('keeps response integers beyond 2^53 exact and validates', async () => {
    const { parseResponseFields } = await import('../../framework/protocol/index.ts');
    expect(parseResponseFields(Big, '{"total": 18446744073709551615, "ratio": 1.0, "dendrite": {"nonce": 1763780000123456789}}'))
      .toEqual({ total: 18446744073709551615n, ratio: 1 });
    expect(() => parseResponseFields(Big, '{"total": 1.5, "ratio": 1}')).toThrow(ProtocolError);
    expect(() => parseResponseFields(Big, 'nope')).toThrow(/not valid JSON/);
  });
});
