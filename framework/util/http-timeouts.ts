import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';

/** Time limits for one HTTP/1.1 server, in ms (all > 0). */
export interface HttpTimeouts {
  /** Whole request (headers and body) must arrive within this; a slow body is answered 408 and closed. */
  requestTimeoutMs: number;
  /** Headers must arrive within this (capped at requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all for this long is closed (0 = never; e.g. a connection that sends nothing). */
  idleTimeoutMs?: number;
  /** Largest total header size, bytes (node's default is 16 KiB). */
  maxHeaderBytes?: number;
}

/**
 * A node:http server enforcing `t`. Node checks request/header expiry on a timer (every 30 s by default,
 * so a 5 s limit could take 35 s): here at a quarter of the headers limit, between 50 ms and 1 s.
 */
export function createTimedServer(t: HttpTimeouts, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const requestTimeout = Math.max(1, Math.round(t.requestTimeoutMs));
  const headersTimeout = Math.min(requestTimeout, Math.max(1, Math.round(t.headersTimeoutMs)));
  const opts: ServerOptions = {
    requestTimeout,
    headersTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  if (t.maxHeaderBytes !== undefined) opts.maxHeaderSize = t.maxHeaderBytes;
  const server = createServer(opts, handler);
  server.keepAliveTimeout = Math.max(1, Math.round(t.keepAliveTimeoutMs));
  if (t.idleTimeoutMs) server.setTimeout(t.idleTimeoutMs, (socket) => socket.destroy());
  return server;
}
