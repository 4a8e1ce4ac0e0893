import { request } from 'undici';
import { z } from 'zod';
import { signHeaders } from '../../framework/btauth/index.ts';
import { defineSynapse } from '../../framework/protocol/index.ts';
import type { Keypair } from '../../framework/wallet/keypair.ts';

export const Square = defineSynapse({
  name: 'Square',
  request: z.object({ x: z.number(), label: z.string() }),
  response: z.object({ y: z.number(), by: z.string() }),
  requiredHashFields: ['x', 'label'],
});
export const Story = defineSynapse({
  name: 'Story',
  request: z.object({ words: z.number().int(), gapMs: z.number().int() }),
  response: z.object({ completion: z.string() }),
  streaming: true,
});
export const Sleep = defineSynapse({ name: 'Sleep', request: z.object({ ms: z.number().int() }), response: z.object({ slept: z.boolean() }) });

export interface RawAnswer {
  status: number;
  json: { error?: string; message?: string } & Record<string, unknown>;
}

/** POST with explicit headers and body, the way any btauth/1 client (httpx, fetch) would. */
export async function post(port: number, target: string, headers: Record<string, string>, body: string | Buffer): Promise<RawAnswer> {
  const res = await request(`http://127.0.0.1:${port}${target}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.body.text();
  let json: RawAnswer['json'];
  try {
    json = JSON.parse(text) as RawAnswer['json'];
  } catch {
    json = { message: text };
  }
  return { status: res.statusCode, json };
}

/** Sign and send a JSON body to `target` on the axon at `port`. */
export function signedPost(
  port: number,
  pair: Keypair,
  receiver: string | null,
  target: string,
  payload: unknown,
  opts: { nonce?: bigint; body?: string } = {},
): Promise<RawAnswer> & { headers: Record<string, string>; body: string } {
  const body = opts.body ?? JSON.stringify(payload);
  const headers = signHeaders(pair, { target, body, receiver, nonce: opts.nonce });
  const p = post(port, target, headers, body) as Promise<RawAnswer> & { headers: Record<string, string>; body: string };
  p.headers = headers;
  p.body = body;
  return p;
}

export const NS_PER_S = 1_000_000_000n;
export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
