/**
 * Wallet costs: loading a key file by each field btwallet may store (baseline: secretSeed), and the
 * $NACL argon2i derivation in our worker thread vs libsodium called directly on the main thread.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import {
  cryptoReady,
  deriveNaclKey,
  deserializeKeyfile,
  keypairFromMnemonic,
  NACL_MEMLIMIT,
  NACL_OPSLIMIT,
  NACL_SALT,
  serializeKeyfile,
} from '../../framework/wallet/index.ts';

const MNEMONIC = 'old leopard transfer rib spatial phone calm indicate online fire caution review';

async function timeIt(iterations: number, fn: () => unknown): Promise<number> {
  fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return (performance.now() - t0) / iterations;
}

function row(name: string, ms: number, base: number): string {
  return `${name.padEnd(44)} ${ms.toFixed(3).padStart(12)} ms ${(ms / base).toFixed(2).padStart(9)}x`;
}

export async function run(): Promise<void> {
  await cryptoReady();
  const full = JSON.parse(serializeKeyfile(keypairFromMnemonic(MNEMONIC))) as Record<string, string>;
  const only = (k: string): Uint8Array => new TextEncoder().encode(JSON.stringify({ [k]: full[k] }));
  const files = { secretSeed: only('secretSeed'), privateKey: only('privateKey'), secretPhrase: only('secretPhrase') };
  const n = 200;
  const seed = await timeIt(n, () => deserializeKeyfile(files.secretSeed, 'bench'));
  const priv = await timeIt(n, () => deserializeKeyfile(files.privateKey, 'bench'));
  const phrase = await timeIt(n, () => deserializeKeyfile(files.secretPhrase, 'bench'));

  const require = createRequire(import.meta.url);
  const sodium = require('libsodium-wrappers-sumo') as typeof import('libsodium-wrappers-sumo');
  await sodium.ready;
  let t0 = performance.now();
  sodium.crypto_pwhash(32, 'bench-password', NACL_SALT, NACL_OPSLIMIT, NACL_MEMLIMIT, sodium.crypto_pwhash_ALG_ARGON2I13);
  const direct = performance.now() - t0;
  t0 = performance.now();
  await deriveNaclKey('bench-password');
  const worker = performance.now() - t0;

  process.stdout.write(`${'operation'.padEnd(44)} ${'time/op'.padStart(15)} ${'ratio'.padStart(10)}\n`);
  process.stdout.write(`${row('load key file: secretSeed (baseline)', seed, seed)}\n`);
  process.stdout.write(`${row('load key file: privateKey (ristretto mul)', priv, seed)}\n`);
  process.stdout.write(`${row('load key file: secretPhrase (bip39 pbkdf2)', phrase, seed)}\n`);
  process.stdout.write(`${row('argon2i 512MiB t=8, main thread (baseline)', direct, direct)}\n`);
  process.stdout.write(`${row('argon2i 512MiB t=8, deriveNaclKey (worker)', worker, direct)}\n`);
}
