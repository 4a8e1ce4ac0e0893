import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import type { SubnetHyperparameters } from '../../framework/chain/types.ts';
import { keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';

export const TAO = 1_000_000_000n;
export const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface TestNet {
  chain: LocalChain;
  netuid: number;
  owner: Keypair;
  /** Validator hotkey (the subnet owner's hotkey, so it may set weights before an epoch grants permits). */
  validator: Keypair;
  minerColdkey: Keypair;
  minerHotkeys: Keypair[];
  dir: string;
  /** Produce blocks in the background every `ms` until stopped. */
  drive(ms?: number): () => void;
}

/** A subnet on an in-process LocalChain with a registered validator and `miners` registered miner hotkeys. */
export async function makeNet(opts: { miners: number; hyper?: Partial<SubnetHyperparameters>; tag?: string }): Promise<TestNet> {
  const chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: `test-${opts.tag ?? 'net'}` });
  const owner = keypairFromUri('//Alice');
  const validator = keypairFromUri('//Alice//validator');
  const netuid = await chain.registerNetwork(owner, validator.ss58Address);
  await chain.startCall(owner, netuid);
  await chain.setHyperparameters(owner, netuid, {
    weightsSetRateLimit: 2,
    commitRevealWeightsEnabled: false,
    servingRateLimit: 0,
    immunityPeriod: 0,
    tempo: 20,
    ...opts.hyper,
  });
  if ((await chain.getUid(netuid, validator.ss58Address)) === null) await chain.burnedRegister(owner, netuid, validator.ss58Address);
  await chain.addStake(owner, validator.ss58Address, netuid, 1000n * TAO);
  const minerColdkey = keypairFromUri('//Bob');
  const minerHotkeys: Keypair[] = [];
  for (let i = 0; i < opts.miners; i++) {
    const hk = keypairFromUri(`//Bob//miner-${opts.tag ?? 'net'}-${i}`);
    await chain.burnedRegister(minerColdkey, netuid, hk.ss58Address);
    minerHotkeys.push(hk);
  }
  await chain.produceBlocks(1);
  const dir = await mkdtemp(join(tmpdir(), 'subnetkit-validator-'));
  return {
    chain, netuid, owner, validator, minerColdkey, minerHotkeys, dir,
    drive(ms = 50) {
      let stopped = false;
      const loop = async () => {
        while (!stopped) {
          await chain.produceBlocks(1).catch(() => {});
          await new Promise((r) => setTimeout(r, ms));
        }
      };
      void loop();
      return () => {
        stopped = true;
      };
    },
  };
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
