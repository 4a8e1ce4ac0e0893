import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAxon, type Axon } from '../../framework/axon/index.ts';
import { Dendrite, type AxonTarget } from '../../framework/dendrite/index.ts';
import {
  PROTOCOL_VERSION, defineSynapse, newUuid, nowNanos, parsePyJson, pyDict, pyIntDict, pyTuple, pyTyped, pythonStr, serializeSynapseMeta,
  signRequest, terminalInfo, toHeaders, type SynapseMeta,
} from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { MemoryCallers, post } from '../axon/support.ts';
import { PY_TYPED_FIELDS, requirePython, runPython, type PyTypedAnswer } from '../protocol/python-oracle.ts';

/**
 * Tuples, int-keyed dicts and integer-like str keys through a real axon and dendrite on 127.0.0.1, and a request
 * whose body and body hash come from CPython (what a Python SDK v10 dendrite sends) accepted by our axon.
 */
const request = z.object({
  pair: pyTuple([z.number().int(), z.number()]),
  one: pyTuple([z.number().int()]),
  scores: pyIntDict(z.number()),
  tags: pyDict(z.number().int()),
});
const Typed = defineSynapse({
  name: 'TypedScores',
  request,
  response: z.object({ seen: z.array(z.string()), ranks: pyIntDict(z.number()), labels: pyDict(z.number().int()), pairOut: pyTuple([z.number().int(), z.number()]) }),
  requiredHashFields: ['pair', 'one', 'scores', 'tags'],
});
const FIELDS = ['pair', 'one', 'scores', 'tags'] as const;
const PY_TYPES = { pair: 'tuple[int, float]', one: 'tuple[int]', scores: 'dict[int, float]', tags: 'dict[str, int]' };
const VALUES_JSON = '{"pair": [3, 2.0], "one": [3], "scores": {"3": 0.5, "1": 0.25}, "tags": {"b": 1, "1": 2, "a": 3, "0": 4}}';

let axon: Axon;
let target: AxonTarget;
let validator: Keypair;
let dendrite: Dendrite;

if (requirePython('Synapse tuples and dicts over axon ↔ dendrite')) {
  beforeAll(async () => {
    await cryptoReady();
    validator = keypairFromUri('//Dave');
    const callers = new MemoryCallers().set(validator.ss58Address, { uid: 0, stake: 1000n, validatorPermit: true });
    axon = createAxon({ keypair: keypairFromUri('//Alice'), callers, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), rateLimit: false });
    axon.attach(Typed, (req) => ({
      // what the miner's handler received, printed as Python would
      seen: FIELDS.map((f) => pythonStr(pyTyped(request.shape[f], req[f]))),
      ranks: new Map([...req.scores].map(([k, v]) => [k, v * 2])),
      labels: req.tags,
      pairOut: req.pair,
    }));
    await axon.start();
    target = { ip: '127.0.0.1', port: axon.port, hotkey: axon.hotkey };
    dendrite = new Dendrite({ keypair: validator, protocol: 'synapse' }); // the legacy wire, whose body hash prints these fields as Python does
  });
  afterAll(async () => {
    await dendrite?.close();
    await axon?.stop();
  });

  describe('Synapse tuples and dicts over axon ↔ dendrite (127.0.0.1, live CPython)', () => {
    const [py] = runPython<PyTypedAnswer[]>(PY_TYPED_FIELDS, { types: PY_TYPES, hashFields: Typed.requiredHashFields, bodies: [VALUES_JSON] });
    const expected = FIELDS.map((f) => (py as PyTypedAnswer).str[f]);

    it('dendrite → axon → dendrite: values arrive and return unchanged, in order, printed as CPython prints them', async () => {
      const r = await dendrite.call(target, Typed, {
        pair: [3, 2],
        one: [3],
        scores: new Map([[3, 0.5], [1, 0.25]]),
        tags: new Map([['b', 1], ['1', 2], ['a', 3], ['0', 4]]),
      });
      expect(r.statusMessage).toBe('Success');
      expect(r.response?.seen).toEqual(expected);
      expect(expected).toEqual(['(3, 2.0)', '(3,)', '{3: 0.5, 1: 0.25}', "{'b': 1, '1': 2, 'a': 3, '0': 4}"]);
      expect([...(r.response?.labels ?? new Map())]).toEqual([['b', 1], ['1', 2], ['a', 3], ['0', 4]]);
      expect([...(r.response?.ranks ?? new Map())]).toEqual([[3, 1], [1, 0.5]]);
      expect(r.response?.pairOut).toEqual([3, 2]);
    });

    it('a body and body hash written by CPython (a Python v10 dendrite) pass our axon, and the answer keeps the order', async () => {
      const nonce = nowNanos();
      const uuid = newUuid();
      const meta: SynapseMeta = {
        name: Typed.name, timeout: 12, total_size: 0, header_size: 0, computed_body_hash: '',
        dendrite: terminalInfo({ ip: '127.0.0.1', version: PROTOCOL_VERSION, nonce, uuid, hotkey: validator.ss58Address }),
        axon: terminalInfo({ ip: '127.0.0.1', port: axon.port, hotkey: axon.hotkey }),
      };
      const answer = py as PyTypedAnswer;
      meta.dendrite.signature = signRequest(validator, { nonce, dendriteHotkey: validator.ss58Address, axonHotkey: axon.hotkey, uuid, bodyHash: answer.hash });
      // the request fields are Python's json.dumps bytes, appended to the meta fields
      const body = `${serializeSynapseMeta(meta).slice(0, -1)}, ${answer.dumps.slice(1)}`;
      const headers = toHeaders(Typed, { ...meta, ...(parsePyJson(answer.dumps) as Record<string, unknown>) }, { bodyHash: answer.hash });
      const res = await post(axon.port, Typed.name, { headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(res.status, res.text).toBe(200);
      expect(res.text).toContain('"labels":{"b":1,"1":2,"a":3,"0":4}');
      expect(res.text).toContain('"ranks":{"3":1.0,"1":0.5}');
      expect(res.text).toContain('"pair":[3,2.0]');
      expect((parsePyJson(res.text) as { seen: string[] }).seen).toEqual(expected);
    });
  });
}
