import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { z } from 'zod';
import { Dendrite, type AxonTarget } from '../../framework/dendrite/index.ts';
import {
  defineSynapse, parseHeaders, serializeSynapseBody, parseSynapseBody, signingMessage, synapseBodyHash,
  verifyRequestSignature,
} from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { closedPort, sendJson, startServer, type TestServer } from './servers.ts';

const Echo = defineSynapse({
  name: 'EchoSynapse',
  request: z.object({ prompt: z.string(), weights: z.array(z.number()), seed: z.number().int(), meta: z.record(z.unknown()).default({}) }),
  response: z.object({ completion: z.string(), score: z.number().optional() }),
  requiredHashFields: ['prompt', 'weights', 'seed', 'meta'],
});
const REQUEST = { prompt: "héllo 'wörld'\n", weights: [1, 0.5], seed: 7, meta: { k: [1, 'x'] } };

let alice: Keypair;
let bob: Keypair;
let dendrite: Dendrite;
const servers: TestServer[] = [];

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

/** A miner that fills `completion` and answers like the SDK axon (FastAPI JSON, axon headers). */
function echoMiner(delayMs = 0) {
  return async (req: { body: string }, res: import('node:http').ServerResponse) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const body = JSON.parse(req.body) as Record<string, unknown>;
    sendJson(res, 200, { ...body, completion: String(body.prompt).toUpperCase() }, {
      bt_header_axon_status_code: '200', bt_header_axon_status_message: 'Success', bt_header_axon_process_time: '0.0125',
    });
  };
}

function target(port: number, ip = '127.0.0.1'): AxonTarget {
  return { ip, port, hotkey: bob.ss58Address };
}

function hasPydantic(): boolean {
  try {
    execFileSync('python3', ['-c', 'import pydantic'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  await cryptoReady();
  alice = keypairFromUri('//Alice');
  bob = keypairFromUri('//Bob');
  dendrite = new Dendrite({ keypair: alice, externalIp: '203.0.113.7', protocol: 'synapse' });
});
afterAll(async () => {
  await dendrite.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe('request on the wire', () => {
  it('POSTs the SDK headers and body, signed over the SDK message', async () => {
    const s = await server(echoMiner());
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await dendrite.call(target(s.port), Echo, REQUEST, { timeoutMs: 1500 });
    expect(r.ok).toBe(true);
    const req = s.captured[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/EchoSynapse');
    const h = req.headers as Record<string, string>;
    expect(h.name).toBe('EchoSynapse');
    expect(h.timeout).toBe('1.5');
    expect(h['content-type']).toBe('application/json');
    expect([h.bt_header_axon_ip, h.bt_header_axon_port, h.bt_header_axon_hotkey]).toEqual(['127.0.0.1', String(s.port), bob.ss58Address]);
    expect([h.bt_header_dendrite_ip, h.bt_header_dendrite_version, h.bt_header_dendrite_uuid, h.bt_header_dendrite_hotkey])
      .toEqual(['203.0.113.7', '10002000', dendrite.uuid, alice.ss58Address]);
    const nonce = BigInt(h.bt_header_dendrite_nonce);
    expect(nonce >= before && nonce <= BigInt(Date.now()) * 1_000_000n + 1_000_000n).toBe(true);
    // SDK header order: name, timeout, axon, dendrite, input objs, sizes, hash
    const names = req.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => !['host', 'content-length', 'connection', 'content-type'].includes(n.toLowerCase()));
    expect(names).toEqual([
      'name', 'timeout', 'bt_header_axon_ip', 'bt_header_axon_port', 'bt_header_axon_hotkey',
      'bt_header_dendrite_ip', 'bt_header_dendrite_version', 'bt_header_dendrite_nonce', 'bt_header_dendrite_uuid',
      'bt_header_dendrite_hotkey', 'bt_header_dendrite_signature',
      'bt_header_input_obj_prompt', 'bt_header_input_obj_weights', 'bt_header_input_obj_seed',
      'header_size', 'total_size', 'computed_body_hash',
    ]);
    expect(Number(h.total_size)).toBe(Buffer.byteLength(req.body));
    // body: json.dumps(model_dump()) — re-serializing what we parsed gives the same bytes
    const parsed = parseSynapseBody(Echo, req.body);
    expect(parsed.meta.total_size).toBe(Number(h.total_size));
    expect(serializeSynapseBody(Echo, { ...parsed.raw })).toBe(req.body);
    expect(req.body).toContain('"weights": [1.0, 0.5]');
    expect(req.body).toContain('"completion": null');
    expect(h.computed_body_hash).toBe(synapseBodyHash(Echo, parsed.raw));
    // the signature verifies over exactly the SDK message, rebuilt from the headers as the axon does
    const ph = parseHeaders(req.headers);
    const p = { nonce: ph.dendrite.nonce!, dendriteHotkey: ph.dendrite.hotkey!, axonHotkey: bob.ss58Address, uuid: ph.dendrite.uuid!, bodyHash: ph.computed_body_hash! };
    expect(signingMessage(p)).toBe(`${nonce}.${alice.ss58Address}.${bob.ss58Address}.${dendrite.uuid}.${h.computed_body_hash}`);
    expect(verifyRequestSignature(p, h.bt_header_dendrite_signature)).toBe(true);
    expect(parsed.meta.dendrite.signature).toBe(h.bt_header_dendrite_signature);
    expect(parsed.meta.dendrite.nonce).toBe(nonce);
  });

  it.skipIf(!hasPydantic())('a pydantic model shaped like the SDK Synapse re-dumps the captured body byte for byte', async () => {
    const s = await server(echoMiner());
    await dendrite.call(target(s.port), Echo, REQUEST);
    const req = s.captured[0];
    const py = execFileSync('python3', ['-c', `
import json, sys, hashlib
from typing import Any, Optional
from pydantic import BaseModel, Field
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
class EchoSynapse(Synapse):
    prompt: str
    weights: list[float]
    seed: int
    meta: dict[str, Any] = {}
    completion: Optional[str] = None
    score: Optional[float] = None
inp = json.load(sys.stdin)
syn = EchoSynapse(**json.loads(inp["body"]))
d = syn.model_dump()
h = lambda s: hashlib.sha3_256(s.encode()).hexdigest()
bh = h("".join(h(str(d[f])) for f in ("prompt", "weights", "seed", "meta")))
hd = inp["headers"]
msg = f"{hd['bt_header_dendrite_nonce']}.{hd['bt_header_dendrite_hotkey']}.{hd['bt_header_axon_hotkey']}.{hd['bt_header_dendrite_uuid']}.{bh}"
json.dump({"dump": json.dumps(d), "hash": bh, "message": msg}, sys.stdout)
`], { input: JSON.stringify({ body: req.body, headers: req.headers }), encoding: 'utf8' });
    const out = JSON.parse(py) as { dump: string; hash: string; message: string };
    expect(out.dump).toBe(req.body);
    expect(out.hash).toBe(req.headers.computed_body_hash);
    const h = parseHeaders(req.headers);
    const p = { nonce: h.dendrite.nonce!, dendriteHotkey: h.dendrite.hotkey!, axonHotkey: h.axon.hotkey!, uuid: h.dendrite.uuid!, bodyHash: out.hash };
    expect(signingMessage(p)).toBe(out.message);
    expect(verifyRequestSignature(p, h.dendrite.signature!)).toBe(true);
  });

  it('reuses keep-alive connections and reports axon headers', async () => {
    const s = await server(echoMiner());
    const a = await dendrite.call(target(s.port), Echo, REQUEST);
    const b = await dendrite.call(target(s.port), Echo, { ...REQUEST, prompt: 'two' });
    expect(a.response).toEqual({ completion: REQUEST.prompt.toUpperCase() });
    expect(b.response?.completion).toBe('TWO');
    expect(b.statusMessage).toBe('Success');
    expect(b.axonProcessTime).toBe(0.0125);
    expect(b.headers.bt_header_axon_status_code).toBe('200');
    expect(b.roundTripMs).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) await dendrite.call(target(s.port), Echo, REQUEST);
    // six sequential calls ride on kept-alive sockets (undici may open one spare)
    expect(s.connections).toBeLessThanOrEqual(2);
    // a fresh nonce per request (the axon requires strictly increasing nonces per dendrite uuid)
    expect(BigInt(s.captured[5].headers.bt_header_dendrite_nonce as string) > BigInt(s.captured[0].headers.bt_header_dendrite_nonce as string)).toBe(true);
  });
});

describe('failures come back as results with the SDK codes', () => {
  it('unreachable port → 503', async () => {
    const port = await closedPort();
    const r = await dendrite.call(target(port), Echo, REQUEST);
    expect([r.ok, r.statusCode, r.statusMessage]).toEqual([false, 503, `Service unavailable at 127.0.0.1:${port}/EchoSynapse`]);
    expect(r.response).toBeNull();
  });

  it('a target that is not an address (from a malicious chain entry) → 503 without any request', async () => {
    const r = await dendrite.call({ ip: 'evil/../x?', port: 80, hotkey: bob.ss58Address }, Echo, REQUEST);
    expect(r.statusCode).toBe(503);
    const r2 = await dendrite.call({ ip: '127.0.0.1', port: 70000, hotkey: bob.ss58Address }, Echo, REQUEST);
    expect(r2.statusCode).toBe(503);
  });

  it('hanging server → 408 within the timeout plus small slack', async () => {
    const s = await server(() => { /* never answers */ });
    const t0 = performance.now();
    const r = await dendrite.call(target(s.port), Echo, REQUEST, { timeoutMs: 300 });
    const elapsed = performance.now() - t0;
    expect([r.statusCode, r.statusMessage]).toEqual([408, 'Request timeout after 0.3 seconds']);
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(300 + 300);
  });

  it('a body that stalls after the headers → 408 too', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"completion": "par');
    });
    const r = await dendrite.call(target(s.port), Echo, REQUEST, { timeoutMs: 300 });
    expect(r.statusCode).toBe(408);
  });

  it('garbage → 422: not JSON, wrong shape, invalid UTF-8, response field left null', async () => {
    const bodies: Array<string | Buffer> = ['this is not json', '[1, 2]', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), '{"completion": null}', '{"completion": 5}'];
    for (const b of bodies) {
      const s = await server((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(b); });
      const r = await dendrite.call(target(s.port), Echo, REQUEST);
      expect([r.ok, r.statusCode], String(b)).toEqual([false, 422]);
      expect(r.statusMessage).toMatch(/^Failed to parse response: /);
    }
  });

  it('garbage axon headers on a 200 → 422', async () => {
    const s = await server((_req, res) => sendJson(res, 200, { completion: 'x' }, { bt_header_axon_process_time: 'fast' }));
    const r = await dendrite.call(target(s.port), Echo, REQUEST);
    expect(r.statusCode).toBe(422);
  });

  it.each([
    [401, 'Not Verified with error: Signature mismatch with a and b'],
    [403, 'Forbidden. Key is blacklisted: Unrecognized hotkey.'],
    [500, 'Internal Server Error #1234'],
  ])('%d with {"message"} → code and message surfaced', async (status, message) => {
    const s = await server((_req, res) => sendJson(res, status, { message }, { bt_header_axon_status_code: String(status), bt_header_axon_process_time: '0.001' }));
    const r = await dendrite.call(target(s.port), Echo, REQUEST);
    expect([r.ok, r.statusCode, r.statusMessage, r.response, r.axonProcessTime]).toEqual([false, status, message, null, 0.001]);
  });

  it('oversize responses are cut off → 422, declared or chunked', async () => {
    const big = 'x'.repeat(11 * 1024 * 1024);
    const chunked = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"completion": "');
      for (let i = 0; i < 11; i++) res.write(big.slice(0, 1024 * 1024));
      res.end('"}');
    });
    const r = await dendrite.call(target(chunked.port), Echo, REQUEST);
    expect([r.statusCode, r.statusMessage]).toEqual([422, 'Failed to parse response: response body exceeds 10485760 bytes']);
    const small = new Dendrite({ keypair: alice, maxResponseBytes: 1024, protocol: 'synapse' });
    try {
      const declared = await server((_req, res) => sendJson(res, 200, { completion: 'y'.repeat(2000) }));
      const r2 = await small.call(target(declared.port), Echo, REQUEST);
      expect(r2.statusCode).toBe(422);
      const ok = await small.call(target(declared.port), Echo, REQUEST, { timeoutMs: 2000 });
      expect(ok.statusCode).toBe(422);
    } finally {
      await small.close();
    }
  });

  it('connection reset mid-body → a failure result, not a throw', async () => {
    const s = await server((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"completion": "ab');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const r = await dendrite.call(target(s.port), Echo, REQUEST);
    expect(r.ok).toBe(false);
    expect([400, 503]).toContain(r.statusCode);
  });

  it("the caller's abort signal ends the call as a failure", async () => {
    const s = await server(() => { /* never answers */ });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const r = await dendrite.call(target(s.port), Echo, REQUEST, { signal: ctl.signal, timeoutMs: 5000 });
    expect(r.statusCode).toBe(408);
    expect(r.roundTripMs).toBeLessThan(1000);
  });

  it("the caller's own invalid request throws (it is not the miner's fault)", async () => {
    await expect(dendrite.call(target(1), Echo, { prompt: 5 } as never)).rejects.toThrow();
  });
});

describe('streaming', () => {
  function streamer(pieces: string[], gapMs: number) {
    return async (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', bt_header_axon_status_code: '200' });
      for (const p of pieces) {
        res.write(p);
        await new Promise((r) => setTimeout(r, gapMs));
      }
      res.end();
    };
  }

  it('raw chunks arrive with increasing timestamps; the text fills the one response field', async () => {
    const pieces = ['Hel', 'lo ', 'wö', 'rld', '!'];
    const s = await server(streamer(pieces, 60));
    const seen: string[] = [];
    const r = await dendrite.stream(target(s.port), Echo, REQUEST, { onChunk: (c) => seen.push(c.data) });
    expect(r.ok).toBe(true);
    expect(r.response).toEqual({ completion: 'Hello wörld!' });
    expect(r.chunks.map((c) => c.data)).toEqual(pieces);
    expect(seen).toEqual(pieces);
    for (let i = 1; i < r.chunks.length; i++) expect(r.chunks[i].receivedAt - r.chunks[i - 1].receivedAt).toBeGreaterThan(30);
    expect(r.timeToFirstChunkMs).toBeGreaterThan(0);
    expect(r.timeToFirstChunkMs!).toBeLessThan(r.roundTripMs);
    expect(r.chunksPerSecond).toBeGreaterThan(5);
    expect(r.chunksPerSecond).toBeLessThan(25);
  });

  it('SSE framing: one chunk per event, split anywhere on the wire', async () => {
    const s = await server(streamer(['data: a\n', '\ndata: b1\ndata: b2\n\n: comment\n\nda', 'ta: {"c": 1}\r\n\r\n'], 20));
    const r = await dendrite.stream(target(s.port), Echo, REQUEST, { framing: 'sse' });
    expect(r.chunks.map((c) => c.data)).toEqual(['a', 'b1\nb2', '{"c": 1}']);
  });

  it('extract() builds the response from the whole text', async () => {
    const s = await server(streamer(['{"completion": "a",', ' "score": 0.5}'], 10));
    const r = await dendrite.stream(target(s.port), Echo, REQUEST, { extract: (t) => JSON.parse(t) });
    expect(r.response).toEqual({ completion: 'a', score: 0.5 });
    const bad = await dendrite.stream(target(s.port), Echo, REQUEST, { extract: () => ({ completion: 1 }) });
    expect([bad.ok, bad.statusCode]).toEqual([false, 422]);
  });

  it('keeps at most maxChunks chunks in memory while counting all', async () => {
    const pieces = Array.from({ length: 40 }, (_, i) => `${i},`);
    const s = await server(streamer(pieces, 5));
    let n = 0;
    const r = await dendrite.stream(target(s.port), Echo, REQUEST, { maxChunks: 10, onChunk: () => n++ });
    expect(r.chunks).toHaveLength(10);
    expect(n).toBe(40);
    expect(r.response?.completion).toBe(pieces.join(''));
  });

  it('a stream that outlives the timeout → 408, keeping the chunks received so far', async () => {
    const s = await server(streamer(['a', 'b', 'c', 'd', 'e', 'f'], 100));
    const r = await dendrite.stream(target(s.port), Echo, REQUEST, { timeoutMs: 250 });
    expect(r.statusCode).toBe(408);
    expect(r.chunks.length).toBeGreaterThanOrEqual(2);
    expect(r.chunks.length).toBeLessThan(6);
  });

  it('an error status on a stream route is reported like a call', async () => {
    const s = await server((_req, res) => sendJson(res, 403, { message: 'Forbidden. Key is blacklisted: no.' }));
    const r = await dendrite.stream(target(s.port), Echo, REQUEST);
    expect([r.statusCode, r.statusMessage, r.chunks]).toEqual([403, 'Forbidden. Key is blacklisted: no.', []]);
  });
});

describe('forward', () => {
  it('50 targets with mixed failures: never throws, results in target order with the right codes', async () => {
    const ok = await server(echoMiner(20));
    const hang = await server(() => { /* never answers */ });
    const garbage = await server((_req, res) => { res.writeHead(200); res.end('<html>'); });
    const forbidden = await server((_req, res) => sendJson(res, 403, { message: 'Forbidden. Key is blacklisted: x.' }));
    const refused = await closedPort();
    const kinds = [
      { port: ok.port, code: 200 }, { port: hang.port, code: 408 }, { port: garbage.port, code: 422 },
      { port: forbidden.port, code: 403 }, { port: refused, code: 503 },
    ];
    const targets = Array.from({ length: 50 }, (_, i) => target(kinds[i % kinds.length].port));
    const t0 = performance.now();
    // generous timeout: the 10 healthy miners must answer in time even on a loaded 2-core machine
    const results = await dendrite.forward(targets, Echo, (_t, i) => ({ ...REQUEST, prompt: `p${i}` }), { timeoutMs: 2500 });
    const elapsed = performance.now() - t0;
    expect(results).toHaveLength(50);
    results.forEach((r, i) => {
      expect(r.target).toBe(targets[i]);
      expect(r.statusCode, `target ${i}`).toBe(kinds[i % kinds.length].code);
      if (r.ok) expect(r.response?.completion).toBe(`P${i}`);
    });
    expect(elapsed).toBeLessThan(2500 + 1500);
  });

  it('respects the concurrency limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const s = await server(async (req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      await echoMiner()(req, res);
    });
    const d = new Dendrite({ keypair: alice, connectionsPerOrigin: 16, protocol: 'synapse' });
    try {
      const results = await d.forward(Array.from({ length: 12 }, () => target(s.port)), Echo, REQUEST, { concurrency: 3 });
      expect(results.every((r) => r.ok)).toBe(true);
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThanOrEqual(2);
    } finally {
      await d.close();
    }
  });

  it('worker signing: every request of a fan-out carries a valid signature over its own nonce', async () => {
    const s = await server(echoMiner());
    const d = new Dendrite({ keypair: alice, workerSigning: true, protocol: 'synapse' });
    try {
      const targets = Array.from({ length: 40 }, () => target(s.port));
      const results = await d.forward(targets, Echo, REQUEST);
      expect(results.every((r) => r.ok)).toBe(true);
      const nonces = new Set<bigint>();
      for (const req of s.captured) {
        const h = parseHeaders(req.headers);
        nonces.add(h.dendrite.nonce!);
        const p = { nonce: h.dendrite.nonce!, dendriteHotkey: alice.ss58Address, axonHotkey: bob.ss58Address, uuid: d.uuid, bodyHash: h.computed_body_hash! };
        expect(verifyRequestSignature(p, h.dendrite.signature!)).toBe(true);
        expect(parseSynapseBody(Echo, req.body).meta.dendrite.signature).toBe(h.dendrite.signature);
      }
      expect(nonces.size).toBe(40);
    } finally {
      await d.close();
    }
  });

  it('WorkerSigner signs in its thread with the hotkey', async () => {
    const { WorkerSigner } = await import('../../framework/dendrite/worker-signer.ts');
    const { verify } = await import('../../framework/wallet/keypair.ts');
    const signer = new WorkerSigner();
    try {
      const sigs = await signer.sign(alice, ['a.b.c', 'd.e.f']);
      expect(sigs).toHaveLength(2);
      expect(verify('a.b.c', sigs[0], alice.publicKey)).toBe(true);
      expect(verify('d.e.f', sigs[1], alice.publicKey)).toBe(true);
      expect(verify('d.e.f', sigs[0], alice.publicKey)).toBe(false);
      // a malformed key never reaches the fast signer (it would panic and break the worker's WASM module)
      await expect(signer.sign({ ...alice, secretKey: new Uint8Array(10) }, ['x'])).rejects.toThrow(/64-byte secret key/);
      const again = await signer.sign(alice, ['g.h.i']);
      expect(verify('g.h.i', again[0], alice.publicKey)).toBe(true);
    } finally {
      await signer.close();
    }
  });

  it('accepts a bare Keypair (the validator runtime constructs it that way)', async () => {
    const d = new Dendrite({ keypair: alice, protocol: 'synapse' });
    expect(d.hotkey).toBe(alice.ss58Address);
    await d.close();
    await expect(d.call(target(1), Echo, REQUEST)).rejects.toThrow(/closed/);
  });
});
