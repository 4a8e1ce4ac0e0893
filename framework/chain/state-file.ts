import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2b';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { ZodError } from 'zod';
import { describeZodError, UserError } from '../errors.ts';
import type { BlockInfo } from './types.ts';
import { parseState, type ChainState } from './state.ts';
import { RAO_PER_TAO } from './hyperparams.ts';

/** Genesis and state-file helpers for LocalChain. */

export const DEV_ACCOUNT_URIS = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'] as const;
/** Genesis balance of each dev account. */
export const DEV_ACCOUNT_BALANCE = 1_000_000n * RAO_PER_TAO;

export function blake256(data: Uint8Array): Uint8Array {
  return blake2b(data, { dkLen: 32 });
}

export interface GenesisOptions {
  genesisSeed?: string;
  blockEmission?: bigint;
}

export function genesisState(opts: GenesisOptions, devAccounts: Array<{ address: string }>): ChainState {
  const seed = opts.genesisSeed ?? randomBytes(32).toString('hex');
  const genesisHash = `0x${bytesToHex(blake256(utf8ToBytes(`subnetkit-localnet-genesis:${seed}`)))}`;
  const head: BlockInfo = { number: 0, hash: genesisHash, timestamp: Date.now() };
  const balances: Record<string, bigint> = {};
  for (const a of devAccounts) balances[a.address] = DEV_ACCOUNT_BALANCE;
  return {
    version: 1,
    genesisHash,
    head,
    recentBlocks: [head],
    blockEmission: opts.blockEmission ?? RAO_PER_TAO,
    balances,
    hotkeyOwner: {},
    stake: {},
    subnets: {},
    totalIssuance: DEV_ACCOUNT_BALANCE * BigInt(devAccounts.length),
    totalBurned: 0n,
    startCallDelay: 0,
    usedNonces: {},
  };
}

/** A kill -9 during a write can leave writeFileAtomic's temp file behind; the target itself is intact. */
export function removeStaleTempFiles(path: string): void {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix) && n.endsWith('.tmp')) rmSync(join(dir, n), { force: true });
}

/** Deepest array/object nesting a state file needs is 7 (subnets → netuid → weights → row → entry); leave room. */
export const MAX_STATE_DEPTH = 32;

/**
 * Where JSON text nests deeper than `max` (byte offset), or -1. One pass over the text, before JSON.parse:
 * a state that parses but nests absurdly deep is refused like any other invalid state.
 */
export function excessiveNesting(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return -1;
}

export function loadStateFile(path: string): ChainState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read chain state ${path}: ${(e as Error).message}`);
  }
  const hint = 'start with --fresh to discard it (the old file is overwritten)';
  const deep = excessiveNesting(text, MAX_STATE_DEPTH);
  if (deep >= 0) throw new UserError(`chain state ${path} is not valid: JSON nested deeper than ${MAX_STATE_DEPTH} levels at byte ${deep}`, { hint });
  try {
    return parseState(text);
  } catch (e) {
    // describeZodError names the field and the problem (zod's own message is a multi-line JSON dump)
    const msg = e instanceof ZodError ? describeZodError(e, 'fields').replace(/^invalid fields: /, '') : e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
    throw new UserError(`chain state ${path} is not valid: ${msg}`, { hint });
  }
}
