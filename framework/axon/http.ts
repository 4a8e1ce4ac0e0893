import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Reservation } from './inflight.ts';

/** A request body larger than the axon's limit (→ 413). */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`Payload Too Large: request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/**
 * Read the whole body as UTF-8 text, refusing more than `limit` bytes: up front when content-length says
 * so (nothing is read), else as soon as the running total passes it (the rest is not buffered).
 * With a `budget`, the bytes are reserved before they are buffered: the declared length up front, a
 * chunked body as it arrives; a refusal throws/rejects BudgetExceeded and nothing more is buffered.
 * (Slow bodies are cut by the server's request timeout, see createTimedServer.)
 */
export function readBody(req: IncomingMessage, limit: number, budget?: Reservation): string | Promise<string> {
  return readInto(req, limit, budget, true) as string | Promise<string>;
}

/** The same, as raw bytes (btauth/1 hashes exactly what was sent). */
export function readBodyBytes(req: IncomingMessage, limit: number, budget?: Reservation): Buffer | Promise<Buffer> {
  return readInto(req, limit, budget, false) as Buffer | Promise<Buffer>;
}

const EMPTY = Buffer.alloc(0);

function readInto(req: IncomingMessage, limit: number, budget: Reservation | undefined, text: boolean): string | Buffer | Promise<string | Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new BodyTooLarge(limit);
  if (declared === 0) return text ? '' : EMPTY;
  if (budget !== undefined && declared > 0) budget.ensure(declared);
  if (req.complete && req.readableFlowing === null && !req.readableDidRead) {
    // Already parsed and buffered (a small body arrives with its headers): take it without listeners.
    if (req.readableLength > limit) throw new BodyTooLarge(limit);
    budget?.ensure(req.readableLength);
    const data = (req.read() as Buffer | null) ?? EMPTY;
    return text ? data.toString('utf8') : data;
  }
  return new Promise((resolve, reject) => {
    (req as BodyState)[BODY] = { limit, size: 0, chunks: [], text, resolve, reject, budget };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

// Module-level listeners with the state on the request: no closures per request (under tsx every closure
// created also pays a name-keeping call).
const BODY = Symbol('axon body');
interface BodyRead {
  limit: number;
  size: number;
  chunks: Buffer[];
  /** Resolve with UTF-8 text (else the bytes). */
  text: boolean;
  budget: Reservation | undefined;
  resolve: (body: string | Buffer) => void;
  reject: (e: Error) => void;
}
type BodyState = IncomingMessage & { [BODY]?: BodyRead };

function finish(req: BodyState): BodyRead | undefined {
  const st = req[BODY];
  req[BODY] = undefined;
  req.off('data', onData);
  req.off('end', onEnd);
  req.off('error', onError);
  req.off('aborted', onAborted);
  return st;
}

function onData(this: BodyState, chunk: Buffer): void {
  const st = this[BODY];
  if (st === undefined) return;
  st.size += chunk.length;
  if (st.size > st.limit) {
    finish(this);
    this.resume(); // discard the rest; the 413 closes the connection
    st.reject(new BodyTooLarge(st.limit));
    return;
  }
  if (st.budget !== undefined) {
    try {
      st.budget.ensure(st.size);
    } catch (e) {
      finish(this);
      this.resume(); // discard the rest; the 503 closes the connection
      st.reject(e as Error);
      return;
    }
  }
  st.chunks.push(chunk);
}

function onEnd(this: BodyState): void {
  const st = finish(this);
  if (st === undefined) return;
  const { chunks, size } = st;
  const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  st.resolve(st.text ? bytes.toString('utf8') : bytes);
}

function onError(this: BodyState, e: Error): void {
  finish(this)?.reject(e);
}

function onAborted(this: BodyState): void {
  finish(this)?.reject(new Error('client aborted the request'));
}

/**
 * Write a complete response in one go. `close` asks node to end the connection afterwards (used when the
 * request body was not read, so the socket cannot be reused).
 */
export function writeResponse(res: ServerResponse, status: number, headers: Record<string, string>, body: string, contentType: string, close = false): void {
  if (res.headersSent || res.destroyed) return;
  headers['content-type'] = contentType;
  headers['content-length'] = String(Buffer.byteLength(body));
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
