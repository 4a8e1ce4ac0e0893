import type { Commodity, MinerAnswer } from '../commodity/define.ts';
import type { StoredAnswer } from '../commodity/pending.ts';

export type Req = Record<string, unknown>;
export type Res = Record<string, unknown>;

interface RawResponse {
  ok: boolean;
  statusCode: number;
  statusMessage: string | null;
  response: unknown;
  roundTripMs: number;
}

/** A dendrite result → the scorer's view; a response failing the commodity schema is a failed answer. */
export function toAnswer(commodity: Commodity, uid: number, hotkey: string, query: Req, r: RawResponse | undefined): MinerAnswer<Req, Res> {
  if (!r) return { uid, hotkey, ok: false, statusCode: 0, statusMessage: 'no response', latencyMs: Number.POSITIVE_INFINITY, query, response: null };
  let response: Res | null = null;
  let ok = r.ok;
  let statusMessage = r.statusMessage ?? null;
  if (r.ok) {
    const parsed = commodity.response.safeParse(r.response);
    if (parsed.success) response = parsed.data as Res;
    else {
      ok = false;
      statusMessage = 'response failed the commodity schema';
    }
  }
  return { uid, hotkey, ok, statusCode: r.statusCode, statusMessage, latencyMs: r.roundTripMs, query, response };
}

/** Answers reloaded from the pending store, re-validated against the (possibly upgraded) commodity schemas. */
export function reviveAnswers(commodity: Commodity, stored: StoredAnswer[]): MinerAnswer<Req, Res>[] {
  return stored.map((a) => {
    const q = commodity.query.safeParse(a.query);
    const r = a.response === null ? null : commodity.response.safeParse(a.response);
    const response = r && r.success ? (r.data as Res) : null;
    return {
      uid: a.uid,
      hotkey: a.hotkey,
      ok: a.ok && response !== null,
      statusCode: a.statusCode,
      statusMessage: a.statusMessage,
      // Infinity does not survive JSON; -1 stands for "no latency"
      latencyMs: a.latencyMs < 0 ? Number.POSITIVE_INFINITY : a.latencyMs,
      query: (q.success ? q.data : a.query) as Req,
      response,
      ...(a.stream ? { stream: a.stream } : {}),
    };
  });
}
