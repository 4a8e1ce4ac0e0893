import { request } from 'undici';
import { z } from 'zod';
import type { CallerInfo, CallerInfoProvider } from '../../framework/axon/index.ts';
import {
  buildSynapseBody,
  defineSynapse,
  newUuid,
  nowNanos,
  PROTOCOL_VERSION,
  serializeSynapseBody,
  signRequest,
  synapseBodyHash,
  toHeaders,
  type RequestOf,
  type SynapseDef,
} from '../../framework/protocol/index.ts';
import type { Keypair } from '../../framework/wallet/keypair.ts';

export const Echo = defineSynapse({
  name: 'Echo',
  request: z.object({ text: z.string(), n: z.number().int(), scale: z.number().default(1) }),
  response: z.object({ reply: z.string(), doubled: z.number().int() }),
  requiredHashFields: ['text', 'n'],
});

/** A real in-memory caller registry (what a metagraph snapshot provides). */
export class MemoryCallers implements CallerInfoProvider {
  readonly map = new Map<string, CallerInfo>();
  set(hotkey: string, info: CallerInfo): this {
    this.map.set(hotkey, info);
    return this;
  }
  lookup(hotkey: string): CallerInfo | undefined {
    return this.map.get(hotkey);
  }
}

export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

/** Build a request exactly as an SDK dendrite would (headers + json body), signed by `caller`. */
export function signedRequest<S extends SynapseDef>(
  def: S,
  req: z.input<S['request']>,
  caller: Keypair,
  axonHotkey: string,
  opts: { uuid?: string; nonce?: bigint; timeout?: number; signature?: string | null; signAs?: Keypair } = {},
): SignedRequest {
  const uuid = opts.uuid ?? newUuid();
  const nonce = opts.nonce ?? nowNanos();
  const body = buildSynapseBody(def, req as RequestOf<S>, {
    timeout: opts.timeout ?? 12,
    dendrite: { ip: '127.0.0.1', version: PROTOCOL_VERSION, nonce, uuid, hotkey: caller.ss58Address },
    axon: { ip: '127.0.0.1', port: 0, hotkey: axonHotkey },
  });
  const bodyHash = synapseBodyHash(def, body);
  const signature =
    opts.signature === undefined ? signRequest(opts.signAs ?? caller, { nonce, dendriteHotkey: caller.ss58Address, axonHotkey, uuid, bodyHash }) : opts.signature;
  if (signature !== null) body.dendrite.signature = signature;
  const headers = toHeaders(def, body, { bodyHash });
  return { headers: { ...headers, 'content-type': 'application/json' }, body: serializeSynapseBody(def, body) };
}

export async function post(port: number, name: string, r: SignedRequest): Promise<{ status: number; headers: Record<string, string>; json: unknown; text: string }> {
  const res = await request(`http://127.0.0.1:${port}/${name}`, { method: 'POST', headers: r.headers, body: r.body });
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
  return { status: res.statusCode, headers, json, text };
}
