// Signs request messages off the main thread. Plain JS so it loads under any runner (tsx, vitest, node)
// without a TypeScript loader. Jobs arrive on parentPort: { id, publicKey, secretKey, messages, claim?, flush }.
// With `claim` (an Int32Array over a SharedArrayBuffer) this thread and the caller both take the next index
// from it, so the split adapts to how busy each thread is. Results go to `workerData.port` in groups of
// `flush`: { id, sigs: [index, signature, …] }, then { id, done: true } (or { id, error }).
import { parentPort, workerData } from 'node:worker_threads';
import { sr25519Sign as wasmCryptoSign, waitReady } from '@polkadot/wasm-crypto';

// the faster schnorrkel build, as keypair.ts signs (wasm-crypto if it cannot load)
const ready = import('@polkadot-labs/schnorrkel-wasm').then(
  (m) => m.sr25519_sign,
  () => waitReady().then((ok) => (ok ? wasmCryptoSign : null)),
);
const encoder = new TextEncoder();
const out = workerData.port;
let broken = false;
// schnorrkel-wasm panics on malformed keys and is left broken after a panic: check first, and on any
// fault switch to wasm-crypto for the life of this worker
async function signer(publicKey, secretKey) {
  if (publicKey.length !== 32 || secretKey.length !== 64) throw new Error('sr25519 key pair must be a 32-byte public and a 64-byte secret key');
  const fast = await ready;
  if (!fast) return null;
  if (fast === wasmCryptoSign) return fast;
  const fallback = (await waitReady()) ? wasmCryptoSign : null;
  return (pk, sk, msg) => {
    if (!broken) {
      try {
        return fast(pk, sk, msg);
      } catch (e) {
        broken = true;
        if (!fallback) throw e;
      }
    }
    if (!fallback) throw new Error('sr25519 WASM backend failed to initialise');
    return fallback(pk, sk, msg);
  };
}

parentPort.on('message', async ({ id, publicKey, secretKey, messages, claim, flush }) => {
  try {
    const sr25519Sign = await signer(publicKey, secretKey);
    if (!sr25519Sign) throw new Error('sr25519 WASM backend failed to initialise');
    const n = messages.length;
    let sigs = [];
    let next = 0;
    for (;;) {
      const i = claim ? Atomics.add(claim, 0, 1) : next++;
      if (i >= n) break;
      sigs.push(i, `0x${Buffer.from(sr25519Sign(publicKey, secretKey, encoder.encode(messages[i]))).toString('hex')}`);
      if (sigs.length >= 2 * flush) {
        out.postMessage({ id, sigs });
        sigs = [];
      }
    }
    if (sigs.length > 0) out.postMessage({ id, sigs });
    out.postMessage({ id, done: true });
  } catch (e) {
    out.postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
});
