/**
 * Signing and submitting: mortal transactions, per-signer nonce order, inclusion (optionally
 * finality) with a timeout, module errors by subtensor's names. A transaction is sent exactly once:
 * if the socket drops while we wait (WsProvider does not restore `author_*` watches after a reconnect),
 * we look for it in the blocks built since we signed it instead of resending it (which could double a
 * transfer or a stake).
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { DispatchError, EventRecord } from '@polkadot/types/interfaces';
import type { IKeyringPair, ISubmittableResult } from '@polkadot/types/types';
import { decodeAddress } from '@polkadot/util-crypto';
import { sign, type Keypair } from '../../wallet/keypair.ts';
import { ChainError } from '../types.ts';

/** Blocks a transaction stays valid (mortal era). */
export const MORTAL_PERIOD = 64;

export interface SubmitOptions {
  /** Wait for finality instead of inclusion in a best block. */
  finalized?: boolean;
  /** ms until we give up waiting (default 60 000); the tx may still land before its era ends. */
  timeoutMs?: number;
}

export interface Included {
  blockHash: string;
  events: EventRecord[];
}

/** Our Keypair as the IKeyringPair @polkadot/api signs with (MultiSignature: scheme byte + signature). */
export function toKeyringPair(pair: Keypair): IKeyringPair {
  const scheme = pair.scheme ?? 'sr25519';
  return {
    address: pair.ss58Address,
    addressRaw: decodeAddress(pair.ss58Address),
    publicKey: pair.publicKey,
    sign: (data: Uint8Array, options?: { withType?: boolean }) => {
      const sig = sign(pair, data);
      if (!options?.withType) return sig;
      const out = new Uint8Array(65);
      out[0] = scheme === 'ed25519' ? 0 : 1;
      out.set(sig, 1);
      return out;
    },
  };
}

/** Decode a DispatchError to subtensor's / substrate's error name. */
export function dispatchErrorName(api: ApiPromise, err: DispatchError): { code: string; message: string } {
  if (err.isModule) {
    const meta = api.registry.findMetaError(err.asModule);
    return { code: meta.name, message: `${meta.section}.${meta.name}${meta.docs.length ? `: ${meta.docs.join(' ').trim()}` : ''}` };
  }
  if (err.isToken) return { code: err.asToken.type, message: `token error ${err.asToken.type}` };
  if (err.isArithmetic) return { code: err.asArithmetic.type, message: `arithmetic error ${err.asArithmetic.type}` };
  return { code: err.type, message: err.toString() };
}

export class Submitter {
  /** Per signer: the tail of its queue, so its transactions go out in nonce order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Per signer: the next nonce we handed out (the chain's pool-aware nonce wins if larger). */
  private readonly nextNonce = new Map<string, bigint>();

  /** `mortal: false` signs immortal transactions (only for dev nodes that refuse mortal eras). */
  constructor(
    private readonly api: () => ApiPromise,
    private readonly mortal = true,
  ) {}

  /**
   * Sign and send `tx`; resolves with the including block and its events for this extrinsic once the
   * extrinsic succeeded, rejects with ChainError(code = error name) if it failed or was refused.
   */
  async submit(signer: Keypair, tx: SubmittableExtrinsic<'promise'>, opts: SubmitOptions = {}): Promise<Included> {
    const key = signer.ss58Address;
    let readyDone!: () => void;
    const ready = new Promise<void>((r) => (readyDone = r));
    const prev = this.queues.get(key) ?? Promise.resolve();
    const mine = prev.then(() => ready);
    this.queues.set(key, mine);
    void mine.finally(() => {
      if (this.queues.get(key) === mine) this.queues.delete(key);
    });
    await prev.catch(() => undefined);
    try {
      return await this.send(signer, tx, opts, readyDone);
    } catch (e) {
      // A mortal era names its anchor block by hash; if that block was replaced after we read it (a re-org,
      // or chopsticks building while we signed) the runtime rebuilds another payload and says BadProof. The
      // pool refused the bytes and this signer's queue is still held: sign once more on a fresh anchor.
      if (!(this.mortal && e instanceof ChainError && e.code === 'BadProof')) throw e;
      return await this.send(signer, tx, opts, readyDone);
    } finally {
      readyDone();
    }
  }

  private async send(signer: Keypair, tx: SubmittableExtrinsic<'promise'>, opts: SubmitOptions, onPooled: () => void): Promise<Included> {
    const api = this.api();
    const key = signer.ss58Address;
    // the pool-aware nonce survives reconnects and other processes; our counter covers the gap
    // between two sends of ours before the pool has seen the first
    const chainNonce = BigInt((await api.rpc.system.accountNextIndex(key)).toString());
    const ours = this.nextNonce.get(key) ?? 0n;
    const nonce: bigint = chainNonce > ours ? chainNonce : ours;
    // mortal era of MORTAL_PERIOD blocks, anchored by @polkadot/api at the finalized head (what spec 185
    // under chopsticks accepts; anchoring at the best head or its parent gave BadProof there)
    const signedAt = (await api.rpc.chain.getHeader()).number.toNumber();
    await tx.signAsync(toKeyringPair(signer), this.mortal ? { nonce, era: MORTAL_PERIOD } : { nonce, era: 0 });
    const hash = tx.hash.toHex();
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise<Included>((resolve, reject) => {
      let unsub: (() => void) | null = null;
      let settled = false;
      let pooled = false;
      let searching = false;
      let poll: NodeJS.Timeout | null = null;
      const finish = (err: Error | null, v?: Included): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (poll) clearTimeout(poll);
        api.off('disconnected', onDrop);
        // a BadProof refusal is retried under the same queue slot (submit), so the next send must still wait
        if (!(err instanceof ChainError && err.code === 'BadProof')) onPooled();
        try {
          unsub?.();
        } catch {
          // the watch died with the old socket
        }
        if (err) reject(err);
        else resolve(v as Included);
      };
      // The socket dropped while the outcome was open: the watch is gone for good. The bytes may be in
      // the pool or a block already, so never resend: look for the hash in every block built since we
      // signed, once a second, until found or the timeout.
      const search = (): void => {
        if (settled || searching) return;
        searching = true;
        const tick = (): void => {
          if (settled) return;
          const next = (): void => {
            poll = setTimeout(tick, 1000);
          };
          if (!api.isConnected) return next();
          findIncluded(api, hash, signedAt).then((found) => (found ? finishFound(found) : next()), next);
        };
        tick();
      };
      const onDrop = (): void => {
        if (!settled) search();
      };
      api.on('disconnected', onDrop);
      const timer = setTimeout(
        () => finish(new ChainError('Timeout', `transaction ${hash} not ${opts.finalized ? 'finalized' : 'included'} within ${timeoutMs} ms (it may still land until its ${MORTAL_PERIOD}-block era ends)`)),
        timeoutMs,
      );
      const onResult = (r: ISubmittableResult): void => {
        const s = r.status;
        if (s.isReady || s.isBroadcast) {
          this.nextNonce.set(key, BigInt(nonce) + 1n);
          pooled = true;
          onPooled();
        }
        if (s.isInvalid || s.isDropped || s.isUsurped) {
          finish(new ChainError(s.isUsurped ? 'Usurped' : s.isDropped ? 'Dropped' : 'Invalid', `transaction ${hash} was ${s.type.toLowerCase()} by the pool`));
          return;
        }
        const done = opts.finalized ? s.isFinalized : s.isInBlock || s.isFinalized;
        if (!done) return;
        const blockHash = (s.isInBlock ? s.asInBlock : s.asFinalized).toHex();
        if (r.dispatchError) {
          const { code, message } = dispatchErrorName(api, r.dispatchError);
          finish(new ChainError(code, message));
          return;
        }
        const sudoFail = r.events.find((e) => e.event.section === 'sudo' && e.event.method === 'Sudid');
        if (sudoFail) {
          const res = sudoFail.event.data[0] as unknown as { isErr: boolean; asErr: DispatchError };
          if (res.isErr) {
            const { code, message } = dispatchErrorName(api, res.asErr);
            finish(new ChainError(code, message));
            return;
          }
        }
        finish(null, { blockHash, events: r.events });
      };
      tx.send(onResult)
        .then((u) => {
          unsub = u;
          if (settled) u();
        })
        .catch((e: unknown) => {
          // the request died with the socket: it may have reached the pool before, so search instead
          if (/disconnected|socket|WebSocket is not connected/i.test((e as Error).message ?? '')) return search();
          const err = poolError(e, hash);
          // a nonce refusal for bytes we may have sent before: look in the blocks before failing
          if (!pooled || (err.code !== 'Stale' && err.code !== 'AlreadyInPool')) return finish(err);
          findIncluded(api, hash, signedAt).then(
            (found) => (found ? finishFound(found) : finish(err)),
            () => finish(err),
          );
        });
      const finishFound = (found: Included): void => {
        const failed = found.events.find((e) => e.event.section === 'system' && e.event.method === 'ExtrinsicFailed');
        if (failed) {
          const { code, message } = dispatchErrorName(api, failed.event.data[0] as DispatchError);
          finish(new ChainError(code, message));
        } else finish(null, found);
      };
    });
  }
}

/** Pool refusals come back as RPC errors such as `1010: Invalid Transaction: Custom error: 6`. */
function poolError(e: unknown, hash: string): ChainError {
  const msg = (e as Error).message ?? String(e);
  const custom = /Custom error: (\d+)/.exec(msg);
  if (/badProof|bad proof|BadProof/.test(msg)) return new ChainError('BadProof', `${hash}: ${msg}`);
  if (/Priority is too low|already imported/i.test(msg)) return new ChainError('AlreadyInPool', `${hash}: ${msg}`);
  if (/Stale|outdated/i.test(msg)) return new ChainError('Stale', `${hash}: ${msg}`);
  if (/Future/i.test(msg)) return new ChainError('Future', `${hash}: ${msg}`);
  if (/exhausts the resources|ExhaustsResources/i.test(msg)) return new ChainError('ExhaustsResources', `${hash}: ${msg}`);
  if (/Inability to pay|Payment/i.test(msg)) return new ChainError('InsufficientBalanceForFees', `${hash}: ${msg}`);
  if (custom) return new ChainError(`InvalidTransaction${custom[1]}`, `${hash}: ${msg}`);
  return new ChainError('Rejected', `${hash}: ${msg}`);
}

/** Look for an extrinsic in the best chain's blocks after `sinceBlock` (at most MORTAL_PERIOD); its events if found. */
export async function findIncluded(api: ApiPromise, hash: string, sinceBlock = 0): Promise<Included | null> {
  let header = await api.rpc.chain.getHeader();
  for (let i = 0; i < MORTAL_PERIOD && header.number.toNumber() > Math.max(0, sinceBlock); i++) {
    const blockHash = header.hash.toHex();
    const block = await api.rpc.chain.getBlock(blockHash);
    const index = block.block.extrinsics.findIndex((x) => x.hash.toHex() === hash);
    if (index >= 0) {
      const at = await api.at(blockHash);
      const all = (await at.query.system.events()) as unknown as EventRecord[];
      const events = all.filter((e) => e.phase.isApplyExtrinsic && e.phase.asApplyExtrinsic.toNumber() === index);
      return { blockHash, events };
    }
    header = await api.rpc.chain.getHeader(header.parentHash);
  }
  return null;
}
