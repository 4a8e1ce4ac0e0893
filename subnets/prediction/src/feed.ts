import { readFile, stat } from 'node:fs/promises';
import { request } from 'undici';
import { z } from 'zod';
import { describeZodError } from '../../../framework/errors.ts';
import { predictionEvent, resolution, type EventSource, type PredictionEvent, type Resolution } from './events.ts';

/**
 * The JSON feed adapter: an operator's real event list (a file, or an http(s) URL) as an EventSource.
 * Document (schema v1, see the README):
 *   { "version": 1, "generatedAt"?: ms, "events": [ <event> & { "resolution"?: <resolution> } ] }
 * The whole document is validated; an invalid or oversized one is rejected with one line saying where,
 * and the last good copy stays in use (a broken feed is a validator-side gap: nobody is penalized).
 */
export const MAX_FEED_EVENTS = 10_000;

const entry = z.object({ resolution: resolution.optional() }).passthrough();
export const feedDocument = z.object({ version: z.literal(1), generatedAt: z.number().optional(), events: z.array(entry).max(MAX_FEED_EVENTS) }).strict();

export interface FeedEntry {
  event: PredictionEvent;
  resolution: Resolution | null;
}

export class FeedError extends Error {}

/** Parse and validate a feed document (text) → entries. Throws FeedError with a one-line reason. */
export function parseFeed(text: string, origin: string): FeedEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FeedError(`feed ${origin}: not JSON (${(e as Error).message})`);
  }
  const doc = feedDocument.safeParse(json);
  if (!doc.success) throw new FeedError(describeZodError(doc.error, `feed ${origin}`));
  const seen = new Set<string>();
  return doc.data.events.map((raw, i) => {
    const { resolution: res, ...rest } = raw;
    const ev = predictionEvent.safeParse(rest);
    if (!ev.success) throw new FeedError(describeZodError(ev.error, `feed ${origin} events[${i}]`));
    if (seen.has(ev.data.id)) throw new FeedError(`feed ${origin}: duplicate event id ${ev.data.id}`);
    seen.add(ev.data.id);
    if (res && 'outcome' in res && ev.data.kind !== 'binary') throw new FeedError(`feed ${origin} events[${i}]: a paths event resolves with prices, not an outcome`);
    if (res && 'prices' in res && (ev.data.kind !== 'paths' || res.prices.length !== ev.data.at.length)) {
      throw new FeedError(`feed ${origin} events[${i}]: resolution.prices needs one price per \`at\``);
    }
    return { event: ev.data, resolution: res ?? null };
  });
}

export interface JsonFeedOptions {
  /** A file path, or an http:// / https:// URL. */
  location: string;
  /** Re-read at most this often (ms). */
  refreshMs?: number;
  maxBytes?: number;
  timeoutMs?: number;
  onWarn?: (msg: string) => void;
}

export class JsonFeedSource implements EventSource {
  private entries: Map<string, FeedEntry> | null = null;
  private fetchedAt = 0;
  private inflight: Promise<void> | null = null;
  private readonly refreshMs: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly isUrl: boolean;

  constructor(private readonly opts: JsonFeedOptions) {
    this.refreshMs = opts.refreshMs ?? 1000;
    this.maxBytes = opts.maxBytes ?? 16 << 20;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.isUrl = /^https?:\/\//.test(opts.location);
  }

  private async read(): Promise<string> {
    if (!this.isUrl) {
      const s = await stat(this.opts.location);
      if (s.size > this.maxBytes) throw new FeedError(`feed ${this.opts.location}: ${s.size} bytes exceeds the ${this.maxBytes}-byte limit`);
      return readFile(this.opts.location, 'utf8');
    }
    const res = await request(this.opts.location, { method: 'GET', headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new FeedError(`feed ${this.opts.location}: HTTP ${res.statusCode}`);
    }
    res.body.on('error', () => {}); // destroying an oversized body aborts it; that is the point
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > this.maxBytes) {
      res.body.destroy();
      throw new FeedError(`feed ${this.opts.location}: ${declared} bytes exceeds the ${this.maxBytes}-byte limit`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > this.maxBytes) {
        res.body.destroy();
        throw new FeedError(`feed ${this.opts.location}: body exceeds the ${this.maxBytes}-byte limit`);
      }
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Refresh when stale. A failed refresh keeps the last good copy (and warns); with none, it throws. */
  private async refresh(now: number): Promise<Map<string, FeedEntry>> {
    if (this.entries && now - this.fetchedAt < this.refreshMs) return this.entries;
    this.inflight ??= (async () => {
      try {
        const list = parseFeed(await this.read(), this.opts.location);
        this.entries = new Map(list.map((e) => [e.event.id, e]));
        this.fetchedAt = now;
      } catch (e) {
        if (!this.entries) throw e;
        this.opts.onWarn?.(`${(e as Error).message}; keeping the last good copy`);
        this.fetchedAt = now;
      } finally {
        this.inflight = null;
      }
    })();
    await this.inflight;
    return this.entries!;
  }

  async events(now: number): Promise<PredictionEvent[]> {
    return [...(await this.refresh(now)).values()].map((e) => e.event);
  }

  async resolution(id: string, now: number): Promise<Resolution | null> {
    return (await this.refresh(now)).get(id)?.resolution ?? null;
  }
}
