// Signs request messages off the main thread during a fan-out. Plain JS so it loads under any runner
// (tsx, vitest, node) without a TypeScript loader. Messages: { id, messages: string[] } → { id, signatures }.
import { parentPort, workerData } from 'node:worker_threads';
import { sr25519Sign, waitReady } from '@polkadot/wasm-crypto';

const ready = waitReady();
const encoder = new TextEncoder();
const { publicKey, secretKey } = workerData;

parentPort.on('message', async ({ id, messages }) => {
  try {
    if (!(await ready)) throw new Error('sr25519 WASM backend failed to initialise');
    const signatures = messages.map((m) => `0x${Buffer.from(sr25519Sign(publicKey, secretKey, encoder.encode(m))).toString('hex')}`);
    parentPort.postMessage({ id, signatures });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
});
