import type { Commodity, MinerAnswer } from '../commodity/define.ts';
import type { StoredAnswer } from '../commodity/pending.ts';
import type { AxonTargetLike, DendriteLike } from './types.ts';

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

/**
 * A streaming commodity's round: one stream per target, `concurrency` at a time; each answer carries the
 * per-chunk telemetry (chunks with arrival times, time to first chunk, chunks/s) the scorer rates speed by.
 * Shared by the embedded validator and the split validator's workers.
 */
export async function streamAnswers(
  dendrite: DendriteLike, commodity: Commodity, targets: readonly AxonTargetLike[], queries: readonly Req[],
  who: ReadonlyArray<{ uid: number; hotkey: string }>, timeoutMs: number, concurrency: number,
): Promise<MinerAnswer<Req, Res>[]> {
  const stream = dendrite.stream?.bind(dendrite);
  if (!stream) throw new Error('the dendrite in use cannot stream, but the commodity is streaming');
  const out = new Array<MinerAnswer<Req, Res>>(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      const r = await stream(targets[i]!, commodity.synapse, queries[i]!, { timeoutMs, framing: commodity.streamFraming });
      out[i] = { ...toAnswer(commodity, who[i]!.uid, who[i]!.hotkey, queries[i]!, r), stream: { chunks: r.chunks, timeToFirstChunkMs: r.timeToFirstChunkMs, chunksPerSecond: r.chunksPerSecond } };
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), targets.length) }, worker));
  return out;
}
