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

parentPort.on('message', async ({ id, publicKey, secretKey, messages, claim, flush }) => {
  try {
    const sr25519Sign = await ready;
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
