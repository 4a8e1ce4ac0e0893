import { pyFloatRepr, pythonRepr } from './python.ts';

/** HTTP status codes as the SDK's axon and dendrite use them (spec §1). */
export const STATUS = {
  SUCCESS: 200,
  /** Set by the axon while a request is in its pipeline (`status_code=100`). */
  PROCESSING: 100,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TIMEOUT: 408,
  UNPROCESSABLE: 422,
  INTERNAL_ERROR: 500,
  UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const;
export type StatusCode = (typeof STATUS)[keyof typeof STATUS];

/** Status messages, byte-for-byte as the SDK builds them, so axon and dendrite print the same strings. */
export const STATUS_MESSAGE = {
  success: 'Success',
  // axon side
  blacklisted: (reason: string) => `Forbidden. Key is blacklisted: ${reason}.`,
  notVerified: (error: string) => `Not Verified with error: ${error}`,
  priorityTimeout: (timeoutSeconds: number) => `Response timeout after: ${pyFloatRepr(timeoutSeconds)}s`,
  notFound: (name: string, available: readonly string[]) =>
    `Synapse name '${name}' not found. Available synapses ${pythonRepr([...available])}`,
  invalidRequestName: 'Invalid request name',
  internalError: (errorId: string) => `Internal Server Error #${errorId}`,
  missingNonce: 'Missing Nonce',
  nonceTooOld: (allowedDeltaSeconds: number, diffSeconds: number) =>
    `Nonce is too old: acceptable delta is ${allowedDeltaSeconds.toFixed(2)} seconds but request was ${diffSeconds.toFixed(2)} seconds old`,
  nonceNotNewer: 'Nonce is too old, a newer one was last processed',
  signatureMismatch: (message: string, signature: string) => `Signature mismatch with ${message} and ${signature}`,
  hashMismatch: (headerHash: string, parsedHash: string) =>
    `Hash mismatch between header body hash ${headerHash} and parsed body hash ${parsedHash}`,
  // dendrite side (DENDRITE_ERROR_MAPPING)
  unavailable: (ip: string, port: number, name: string) => `Service unavailable at ${ip}:${port}/${name}`,
  requestTimeout: (timeoutSeconds: number) => `Request timeout after ${pyFloatRepr(timeoutSeconds)} seconds`,
  disconnected: (detail: string) => `Service disconnected: ${detail}`,
  payloadError: (detail: string) => `Payload error: ${detail}`,
  parseFailed: (detail: string) => `Failed to parse response: ${detail}`,
} as const;

/** A malformed request or response. `status` is the HTTP code to answer with (axon) or report (dendrite). */
export class ProtocolError extends Error {
  readonly status: number;
  constructor(status: number, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ProtocolError';
    this.status = status;
  }
}
