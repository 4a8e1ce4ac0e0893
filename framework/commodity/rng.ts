import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { hexToU8a, u8aToHex } from '@polkadot/util';

/**
 * Per-round seed: HMAC-SHA256(validatorSecret, blockHash ‖ u64be(round)).
 * Miners cannot predict it (they lack the secret); an auditor given the secret can recompute every task.
 */
export function deriveRoundSeed(secret: Uint8Array, blockHash: string, round: number): Uint8Array {
  const hash = hexToU8a(blockHash);
  const msg = new Uint8Array(hash.length + 8);
  msg.set(hash, 0);
  new DataView(msg.buffer).setBigUint64(hash.length, BigInt(round), false);
  return hmac(sha256, secret, msg);
}

/**
 * A small deterministic PRNG: SHA-256 in counter mode over a 32-byte seed. Slower than xorshift but
 * output is unpredictable without the seed, which matters because task content is the secret.
 */
export class SeededRng {
  readonly seed: Uint8Array;
  private counter = 0;
  private block = new Uint32Array(0);
  private pos = 0;

  constructor(seed: Uint8Array | string) {
    this.seed = typeof seed === 'string' ? (seed.startsWith('0x') ? hexToU8a(seed) : sha256(new TextEncoder().encode(seed))) : seed.slice();
  }

  static forRound(secret: Uint8Array, blockHash: string, round: number): SeededRng {
    return new SeededRng(deriveRoundSeed(secret, blockHash, round));
  }

  /** An independent stream derived from this seed and a label (e.g. one per miner). */
  fork(label: string | number): SeededRng {
    const l = new TextEncoder().encode(`fork:${label}`);
    return new SeededRng(hmac(sha256, this.seed, l));
  }

  nextU32(): number {
    if (this.pos >= this.block.length) {
      const msg = new Uint8Array(this.seed.length + 8);
      msg.set(this.seed, 0);
      new DataView(msg.buffer).setBigUint64(this.seed.length, BigInt(this.counter++), false);
      const out = sha256(msg);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      // explicit little-endian so streams are identical on every platform
      this.block = Uint32Array.from({ length: 8 }, (_, i) => view.getUint32(4 * i, true));
      this.pos = 0;
    }
    return this.block[this.pos++] >>> 0;
  }

  /** Uniform float in [0, 1) with 53 bits of randomness. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [min, max] (inclusive), unbiased. */
  int(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) throw new RangeError(`bad range [${min}, ${max}]`);
    const span = max - min + 1;
    if (span > 2 ** 32) return min + Math.floor(this.next() * span);
    const limit = Math.floor(2 ** 32 / span) * span;
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return min + (x % span);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)];
  }

  /** Fisher–Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  /** k distinct items without replacement; returns all (shuffled) when k ≥ length. */
  sample<T>(items: readonly T[], k: number): T[] {
    return this.shuffle(items).slice(0, Math.max(0, Math.min(k, items.length)));
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.nextU32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }

  hex(nBytes: number): string {
    return u8aToHex(this.bytes(nBytes));
  }
}
