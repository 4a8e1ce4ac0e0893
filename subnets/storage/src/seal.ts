import { createCipheriv, createHmac } from 'node:crypto';

/**
 * Per-replica sealing. A shard is XORed with a ChaCha20 keystream under a key derived from the
 * object's secret key, the holder's hotkey and the shard index. The validator keeps the object key, so
 * miners can neither derive another hotkey's replica nor regenerate their own on demand: two hotkeys of
 * one operator holding "the same" shard hold different bytes and must store both, and a miner cannot
 * answer a challenge with bytes fetched from another miner. Sealing also keeps user data confidential.
 */
export function sealKey(objectKey: Uint8Array, hotkey: string, index: number): Buffer {
  return createHmac('sha256', objectKey).update('subnetkit-storage-seal/1\0').update(hotkey).update(`\0${index}`).digest();
}

const IV = Buffer.alloc(16); // the key is unique per (object, hotkey, index), so a fixed IV is safe

/** Seal or unseal (the same XOR). Returns a new buffer. */
export function seal(shard: Uint8Array, key: Uint8Array): Buffer {
  const c = createCipheriv('chacha20', key, IV);
  return Buffer.concat([c.update(shard), c.final()]);
}
export const unseal = seal;
