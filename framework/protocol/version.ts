import { randomBytes } from 'node:crypto';

/** `version_as_int`: Σ part·1000^i over major.minor.patch, so "10.2.0" → 10002000. */
export function versionAsInt(version: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new Error(`invalid version '${version}': expected major.minor.patch`);
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (parts.some((p) => p >= 1000)) throw new Error(`invalid version '${version}': each part must be < 1000`);
  return parts[0] * 1_000_000 + parts[1] * 1000 + parts[2];
}

/** The SDK wire format we speak (bittensor v10.2.0); ≥ 7002000 so axons apply the nonce time window. */
export const PROTOCOL_VERSION = versionAsInt('10.2.0');
/** `V_7_2_0`: from this self-reported version on, axons check the first nonce against a time window. */
export const NONCE_WINDOW_MIN_VERSION = 7_002_000;
/** `ALLOWED_DELTA` (ns) added to the request timeout for the first-nonce freshness window. */
export const ALLOWED_NONCE_DELTA_NS = 4_000_000_000n;

// Wall-clock ns anchored once, then advanced by the monotonic clock: ns resolution without Date's ms steps.
const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNonce = 0n;

/** Unix time in ns (Python `time.time_ns()`), strictly increasing within this process (nonces must be). */
export function nowNanos(): bigint {
  let t = originNs + process.hrtime.bigint();
  if (t <= lastNonce) t = lastNonce + 1n;
  lastNonce = t;
  return t;
}

// uuid1 fields: 60-bit timestamp in 100 ns since 1582-10-15, random clock sequence and random node id
// (multicast bit set, as RFC 4122 §4.5 asks when no MAC address is used).
const GREGORIAN_OFFSET_100NS = 122_192_928_000_000_000n;
let uuidClockSeq = randomBytes(2).readUInt16BE(0) & 0x3fff;
let lastUuidTime = 0n;

/** A version-1 UUID string like Python's `uuid.uuid1()` (the SDK's dendrite/axon uuid). */
export function newUuid(): string {
  let t = (originNs + process.hrtime.bigint()) / 100n + GREGORIAN_OFFSET_100NS;
  if (t <= lastUuidTime) uuidClockSeq = (uuidClockSeq + 1) & 0x3fff;
  lastUuidTime = t;
  t &= 0x0fff_ffff_ffff_ffffn;
  const timeLow = (t & 0xffff_ffffn).toString(16).padStart(8, '0');
  const timeMid = ((t >> 32n) & 0xffffn).toString(16).padStart(4, '0');
  const timeHi = (((t >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, '0');
  const seq = (0x8000 | uuidClockSeq).toString(16).padStart(4, '0');
  const node = randomBytes(6);
  node[0] |= 0x01;
  return `${timeLow}-${timeMid}-${timeHi}-${seq}-${node.toString('hex')}`;
}
