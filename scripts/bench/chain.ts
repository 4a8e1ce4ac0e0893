/**
 * Bench suite 'chain': cost of LocalChain block production and of persisting its state with atomic
 * writes (fsync + rename), on a subnet with n neurons, every validator holding a full weight row.
 * Baseline: the same chain in memory (no state file), measured in the same run.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';

const TAO = 1_000_000_000n;

async function populated(n: number, validators: number, statePath?: string, persistEveryBlocks = 1): Promise<{ chain: LocalChain; vals: Keypair[] }> {
  const chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'bench', statePath, fresh: true, persistEveryBlocks });
  const alice = keypairFromUri('//Alice');
  const netuid = await chain.registerNetwork(alice, keypairFromUri('//Alice//owner').ss58Address);
  await chain.startCall(alice, netuid);
  await chain.setHyperparameters(alice, netuid, {
    maxAllowedUids: n,
    maxAllowedValidators: validators,
    commitRevealWeightsEnabled: false,
    weightsSetRateLimit: 0,
    tempo: 2,
    minBurn: 0n,
    burn: 0n,
  });
  const hot: Keypair[] = [];
  for (let i = 1; i < n; i++) {
    const k = keypairFromUri(`//Alice//bench//${i}`);
    hot.push(k);
    await chain.burnedRegister(alice, netuid, k.ss58Address);
  }
  const vals = hot.slice(0, validators - 1);
  for (const v of vals) await chain.addStake(alice, v.ss58Address, netuid, 1000n * TAO);
  await chain.produceBlocks(2); // one epoch hands out validator permits by stake
  const uids = Array.from({ length: n }, (_, i) => i);
  for (const v of vals) await chain.setWeights(v, netuid, uids, uids.map((u) => 1 + ((u * 7919) % 65535)), 0n);
  await chain.setHyperparameters(alice, netuid, { tempo: 360 });
  return { chain, vals };
}

async function perBlockMs(chain: LocalChain, blocks: number): Promise<number> {
  await chain.produceBlocks(3); // warm-up
  const t0 = performance.now();
  await chain.produceBlocks(blocks);
  return (performance.now() - t0) / blocks;
}

async function perCallMs(chain: LocalChain, v: Keypair, n: number, calls: number): Promise<number> {
  const uids = Array.from({ length: n }, (_, i) => i);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await chain.setWeights(v, 1, uids, uids.map((u) => 1 + ((u * (i + 3)) % 65535)), 0n);
  return (performance.now() - t0) / calls;
}

export async function run(): Promise<void> {
  await cryptoReady();
  const dir = mkdtempSync(join(tmpdir(), 'bench-chain-'));
  const rows: string[][] = [];
  try {
    for (const [n, validators] of [
      [64, 16],
      [256, 64],
    ] as const) {
      const blocks = n > 100 ? 20 : 50;
      const mem = await populated(n, validators);
      const memBlock = await perBlockMs(mem.chain, blocks);
      const memCall = await perCallMs(mem.chain, mem.vals[0]!, n, 10);
      await mem.chain.close();

      const path = join(dir, `state-${n}.json`);
      const disk = await populated(n, validators, path, 1);
      const diskBlock = await perBlockMs(disk.chain, blocks);
      const diskCall = await perCallMs(disk.chain, disk.vals[0]!, n, 10);
      const writeMs = disk.chain.lastPersistMs;
      await disk.chain.close();
      const size = statSync(path).size;

      const path10 = join(dir, `state10-${n}.json`);
      const every10 = await populated(n, validators, path10, 10);
      const every10Block = await perBlockMs(every10.chain, blocks);
      await every10.chain.close();

      rows.push([
        `n=${n}, ${validators} validators`,
        `${(size / 1024).toFixed(0)} KiB`,
        memBlock.toFixed(2),
        `${diskBlock.toFixed(2)} (${(diskBlock / memBlock).toFixed(1)}×)`,
        `${every10Block.toFixed(2)} (${(every10Block / memBlock).toFixed(1)}×)`,
        writeMs.toFixed(2),
        memCall.toFixed(2),
        `${diskCall.toFixed(2)} (${(diskCall / memCall).toFixed(1)}×)`,
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header = ['subnet', 'state file', 'block ms (memory)', 'block ms (persist each)', 'block ms (every 10)', 'one write ms', 'set_weights ms (memory)', 'set_weights ms (persisted)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write('ratios are against the in-memory chain measured in the same run\n');
}
