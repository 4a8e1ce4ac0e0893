import { STATUS, STATUS_MESSAGE } from '../protocol/index.ts';

/** Where a request was when it failed: errors before the response headers are connection errors. */
export type Phase = 'connect' | 'body';

export interface Failure {
  statusCode: number;
  statusMessage: string;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'EHOSTDOWN']);
const DISCONNECTED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'ECONNABORTED']);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (e && typeof e.code === 'string') return e.code;
  if (e && e.cause && typeof e.cause.code === 'string') return e.cause.code;
  return undefined;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * The SDK's DENDRITE_ERROR_MAPPING for undici errors: unreachable → 503 "Service unavailable at …",
 * reset before the response → 503 "Service disconnected", broken body → 400 "Payload error",
 * anything else → 422 "Failed to parse response". Timeouts are decided by the caller (408).
 */
export function classifyError(err: unknown, phase: Phase, target: { ip: string; port: number }, name: string): Failure {
  const code = errorCode(err);
  if (code && UNREACHABLE.has(code)) {
    return { statusCode: STATUS.UNAVAILABLE, statusMessage: STATUS_MESSAGE.unavailable(target.ip, target.port, name) };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { statusCode: STATUS.UNAVAILABLE, statusMessage: STATUS_MESSAGE.unavailable(target.ip, target.port, name) };
  }
  if (code && DISCONNECTED.has(code)) {
    return phase === 'connect'
      ? { statusCode: STATUS.UNAVAILABLE, statusMessage: STATUS_MESSAGE.disconnected(errorText(err)) }
      : { statusCode: STATUS.BAD_REQUEST, statusMessage: STATUS_MESSAGE.payloadError(errorText(err)) };
  }
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return { statusCode: STATUS.BAD_REQUEST, statusMessage: STATUS_MESSAGE.payloadError(errorText(err)) };
  }
  return { statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed(errorText(err)) };
}
