/**
 * SubtensorChain against the real spec 185 runtime (testnet, May 2024; real Yuma epoch) in chopsticks.
 * One chopsticks instance for the file. The Yuma outputs the runtime writes are compared with our own
 * runEpoch on the same metagraph, weights and bonds read back from the chain.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWallet, resolveWalletRef } from '../../../framework/wallet/index.ts';
import { SubtensorChain } from '../../../framework/chain/subtensor/index.ts';
import { ChainError } from '../../../framework/chain/types.ts';
import { runEpoch, type EpochInput, type SparseRow } from '../../../framework/consensus/index.ts';
import { commitHashV2 } from '../../../framework/consensus/weights/commit-reveal.ts';
import { runSubnet, type ProcessResult } from '../../support/process.ts';
import { chopsticksGate, startChopsticks, type Chopsticks } from '../../support/chopsticks.ts';
import { advanceTo, cast, inBlock, nextEpochBlock, TAO, relaxDevLimits } from './scenario.ts';

const skip = chopsticksGate(185);
const c = cast();
let cs: Chopsticks;
let chain: SubtensorChain;
let netuid = -1;
let uids: number[] = [];
const TEMPO = 10;
const INTERVAL = 12;

describe.skipIf(skip !== null)('SubtensorChain on spec 185 (chopsticks)', () => {
  beforeAll(async () => {
    cs = await startChopsticks(185);
    process.stdout.write(`chopsticks spec 185 ready in ${cs.startupMs} ms\n`);
    chain = await SubtensorChain.connect(cs.url, { sudo: c.alice, heartbeatMs: 0 });
  }, 400_000);
  afterAll(async () => {
    await chain?.close();
    await cs?.stop();
  });

  it('reads the runtime and refuses calls it lacks, naming call and spec', async () => {
    expect(chain.specVersion).toBe(185);
    expect(chain.hasCall('subtensor_module', 'set_mechanism_weights')).toBe(false);
    await expect(chain.setWeights(c.hot[0], 1, [0], [1], 0n, { mechid: 1 })).rejects.toThrow(/set_mechanism_weights.*spec 185/);
    expect(await chain.getBalance(c.alice.ss58Address)).toBe(1_000_000_000n * TAO);
  });

  it('creates a subnet, registers 8 neurons, stakes, serves', async () => {
    await relaxDevLimits(chain, cs, { rootTempo: TEMPO });
    [netuid] = await inBlock(cs, [() => chain.registerNetwork(c.alice, c.hot[0].ss58Address)]);
    expect(netuid).toBeGreaterThan(0);
    await inBlock<unknown>(cs, [
      () =>
        chain.setHyperparameters(c.alice, netuid, {
          tempo: TEMPO,
          weightsSetRateLimit: 0,
          minAllowedWeights: 1,
          activityCutoff: 5000,
          commitRevealWeightsEnabled: false,
          immunityPeriod: 1,
        }),
      () =>
        chain.sudoBatch([
          ['admin_utils', 'sudo_set_max_registrations_per_block', { netuid, max_registrations_per_block: 16 }],
          ['admin_utils', 'sudo_set_target_registrations_per_interval', { netuid, target_registrations_per_interval: 16 }],
          ['admin_utils', 'sudo_set_commit_reveal_weights_interval', { netuid, interval: INTERVAL }],
        ]),
    ]);
    uids = await inBlock(
      cs,
      c.hot.map((h, i) => () => chain.burnedRegister(i < 2 ? c.valCold : c.minerCold, netuid, h.ss58Address)),
    );
    expect([...uids].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await chain.getUid(netuid, c.hot[3].ss58Address)).toBe(uids[3]);

    // stake 2:1 on the two validators; root weights so that the subnet gets emission (pre-dTAO)
    await inBlock(cs, [
      () => chain.addStake(c.valCold, c.hot[0].ss58Address, netuid, 2000n * TAO),
      () => chain.addStake(c.valCold, c.hot[1].ss58Address, netuid, 1000n * TAO),
      () => chain.rootRegister(c.valCold, c.hot[0].ss58Address),
    ]);
    await inBlock<unknown>(cs, [
      () => chain.setRootWeights(c.valCold, c.hot[0].ss58Address, [0, netuid], [0, 65_535]),
      ...c.hot.slice(2).map((h, i) => () => chain.serveAxon(h, netuid, { version: 1, ip: `192.0.2.${10 + i}`, port: 8091 + i, ipType: 4, protocol: 4 })),
    ]);
    // a real chain refuses loopback axons
    await expect(inBlock(cs, [() => chain.serveAxon(c.hot[2], netuid, { version: 1, ip: '127.0.0.1', port: 8091, ipType: 4, protocol: 4 })])).rejects.toMatchObject({
      code: 'InvalidIpAddress',
    });
    const mg = await chain.getMetagraph(netuid);
    expect(mg.n).toBe(8);
    expect(mg.hotkeys[uids[5]]).toBe(c.hot[5].ss58Address);
    expect(mg.coldkeys[uids[5]]).toBe(c.minerCold.ss58Address);
    expect(mg.stake[uids[0]]).toBe(2000n * TAO);
    expect(mg.axons[uids[4]]).toMatchObject({ ip: '192.0.2.12', port: 8093, ipType: 4, protocol: 4 });
    expect(mg.axons[uids[0]]).toBeNull();
    expect(mg.blockAtRegistration.every((b) => b > 0)).toBe(true);
    // 185's WeightCommitRevealInterval is in blocks; the adapter reports epochs of tempo + 1 blocks
    expect((await chain.getHyperparameters(netuid)).revealPeriodEpochs).toBe(Math.ceil(INTERVAL / (TEMPO + 1)));
  }, 400_000);

  it('the subnet CLI reads the real chain over ws:// (metagraph --json, subnets show, weights show)', async () => {
    const mg = await runSubnet(['metagraph', '--chain', cs.url, '--netuid', String(netuid), '--json'], { timeoutMs: 120_000 });
    expect(mg.code, mg.out).toBe(0);
    const parsed = JSON.parse(mg.stdout) as { n: number; neurons: Array<{ hotkey: string; axon: string }> };
    expect(parsed.n).toBe(8);
    expect(parsed.neurons.map((x) => x.hotkey)).toContain(c.hot[5].ss58Address);
    const show = await runSubnet(['subnets', 'show', '--chain', cs.url, '--netuid', String(netuid)], { timeoutMs: 120_000 });
    expect(show.code, show.out).toBe(0);
    expect(show.stdout).toMatch(/tempo\s+10/);
    const missing = await runSubnet(['metagraph', '--chain', cs.url, '--netuid', '999'], { timeoutMs: 120_000 });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/subnet 999/);

    // `subnets set`: a signed origin may not set a root-only hyperparameter (BadOrigin, one line + hint);
    // with --as-sudo from the wallet holding the chain's sudo key it goes through sudo.sudo (dev setup:
    // the wallet's coldkey is made the sudo key for this check, then //Alice again)
    const dir = await mkdtemp(join(tmpdir(), 'subnets-set-'));
    const env = { ...process.env, BT_WALLET_PATH: dir };
    const { coldkey: sudoKey } = await createWallet(resolveWalletRef({ path: dir, name: 'sudo' }), { password: null });
    await inBlock(cs, [() => chain.transfer(c.alice, sudoKey.ss58Address, 100n * TAO)]);
    await cs.setStorage({ Sudo: { Key: sudoKey.ss58Address } });
    // a CLI run that exits before its transaction reaches the pool counts as refused (inBlock stops waiting)
    const set = async (extra: string[]): Promise<ProcessResult> => {
      let result: ProcessResult | undefined;
      const run = (): Promise<ProcessResult> =>
        runSubnet(['subnets', 'set', '--chain', cs.url, '--netuid', String(netuid), '--name', 'sudo', ...extra, 'maxAllowedUids=200'], { env, timeoutMs: 120_000 }).then((r) => {
          result = r;
          if (r.code !== 0) throw new Error(r.out);
          return r;
        });
      await inBlock(cs, [run]).catch(() => undefined);
      return result as ProcessResult;
    };
    const refused = await set([]);
    expect(refused.code, refused.out).not.toBe(0);
    expect(refused.stderr).toMatch(/BadOrigin/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const done = await set(['--as-sudo']);
    expect(done.code, done.out).toBe(0);
    expect((await chain.getHyperparameters(netuid)).maxAllowedUids).toBe(200);
    await cs.setStorage({ Sudo: { Key: c.alice.ss58Address } });
    await rm(dir, { recursive: true, force: true });
  }, 400_000);

  it('decodes module errors by subtensor names', async () => {
    const stranger = cast().hot.map((_, i) => `//Ferdie//x${i}`)[0];
    const { keypairFromUri } = await import('../../../framework/wallet/keypair.ts');
    const k = keypairFromUri(stranger);
    await expect(inBlock(cs, [() => chain.setWeights(k, netuid, [2], [65_535], 0n)])).rejects.toBeInstanceOf(ChainError);
    await expect(inBlock(cs, [() => chain.addStake(c.valCold, k.ss58Address, netuid, 10n * TAO)])).rejects.toMatchObject({ code: 'HotKeyAccountNotExists' });
  }, 400_000);

  it('sets weights from 2 validators; the runtime epoch matches our runEpoch', async () => {
    // first epoch hands out permits (top-k by stake), then weights ∝ uid on the miners
    const head0 = (await chain.getBlock()).number;
    await advanceTo(chain, cs, nextEpochBlock(head0, netuid, TEMPO));
    const mg0 = await chain.getMetagraph(netuid);
    const [v0, v1] = [uids[0], uids[1]];
    expect(mg0.validatorPermit[v0] && mg0.validatorPermit[v1]).toBe(true);
    // weights ∝ hot index on the miners (hot 2…7), whatever uids the block gave them
    const miners = uids.slice(2);
    const w = c.hot.slice(2).map((_, i) => (i + 2) * 1000);
    const t0 = Date.now();
    await inBlock(cs, [
      () => chain.setWeights(c.hot[0], netuid, miners, w, 0n),
      () => chain.setWeights(c.hot[1], netuid, miners, w, 0n),
    ]);
    process.stdout.write(`set_weights (2 validators) submit → inclusion: ${Date.now() - t0} ms (incl. one manual block)\n`);
    expect((await chain.getWeights(netuid, v0)).length).toBe(6);

    // read the epoch input one block before the epoch, run ours, let the runtime run its own
    const epochBlock = nextEpochBlock((await chain.getBlock()).number, netuid, TEMPO);
    await advanceTo(chain, cs, epochBlock - 1);
    const input = await epochInput(chain, netuid, epochBlock);
    await cs.newBlock();
    const mg = await chain.getMetagraph(netuid);
    const ours = runEpoch(input);
    process.stdout.write(
      `spec 185 epoch @${epochBlock}\n  runtime incentive ${JSON.stringify(mg.incentive)}\n  runEpoch incentive ${JSON.stringify(ours.incentive)}\n` +
        `  runtime dividends ${JSON.stringify(mg.dividends)}\n  runEpoch dividends ${JSON.stringify(ours.dividends)}\n` +
        `  runtime emission ${mg.emission.join(',')}\n  runEpoch emission ${ours.emission.join(',')}\n`,
    );
    expect(mg.incentive).toEqual(ours.incentive);
    expect(mg.dividends).toEqual(ours.dividends);
    expect(mg.consensus).toEqual(ours.consensus);
    expect(mg.validatorTrust).toEqual(ours.validatorTrust);
    const inc = miners.map((u) => mg.incentive[u]);
    expect(inc.every((x, i) => i === 0 || x > inc[i - 1])).toBe(true);
    expect(mg.dividends[v0]).toBeGreaterThan(mg.dividends[v1]);
    expect(mg.emission.every((e) => e > 0n)).toBe(true);
    // emission split per uid agrees to rounding; the total the runtime distributed is its own
    // PendingEmission at the epoch block (see docs/chain.md), so compare shares, not amounts
    const total = mg.emission.reduce((a, b) => a + b, 0n);
    const oursTotal = ours.emission.reduce((a, b) => a + b, 0n);
    for (let i = 0; i < mg.n; i++) {
      const share = Number(mg.emission[i]) / Number(total);
      const oursShare = Number(ours.emission[i]) / Number(oursTotal);
      // observed up to 1.5e-6: both split in fixed point, but from totals ~9× apart
      expect(Math.abs(share - oursShare)).toBeLessThan(1e-5);
    }
  }, 400_000);

  it('commit + reveal (v2): reveal too early is refused by name, on time it lands', async () => {
    await inBlock(cs, [() => chain.setHyperparameters(c.alice, netuid, { commitRevealWeightsEnabled: true })]);
    // commit at the start of an interval, so that the next block is provably too early
    const h0 = (await chain.getBlock()).number;
    await advanceTo(chain, cs, h0 - (h0 % INTERVAL) + INTERVAL - 1);
    await expect(inBlock(cs, [() => chain.setWeights(c.hot[0], netuid, [2], [65_535], 0n)])).rejects.toMatchObject({ code: 'CommitRevealEnabled' });
    const salt = [1, 2, 3, 4, 5, 6, 7, 8];
    const hash = commitHashV2({ hotkey: c.hot[0].ss58Address, netuidIndex: netuid, uids: [uids[7]], values: [65_535], salt, versionKey: 0n });
    await inBlock(cs, [() => chain.commitWeights(c.hot[0], netuid, hash)]);
    expect((await chain.getWeightCommits(netuid, c.hot[0].ss58Address))[0]?.hash).toBe(hash);
    // 185: reveal only in the WeightCommitRevealInterval (blocks) after the commit's interval
    const head = (await chain.getBlock()).number;
    const commitBlock = (await chain.getWeightCommits(netuid, c.hot[0].ss58Address))[0].commitBlock;
    const revealStart = commitBlock - (commitBlock % INTERVAL) + INTERVAL;
    process.stdout.write(`commit at ${commitBlock}, head ${head}, reveal window from ${revealStart}; interval ${String(await chain.api.query.subtensorModule.weightCommitRevealInterval(netuid))}\n`);
    expect(revealStart - head).toBeGreaterThan(1);
    {
      await expect(inBlock(cs, [() => chain.revealWeights(c.hot[0], netuid, [uids[7]], [65_535], salt, 0n)])).rejects.toMatchObject({ code: 'InvalidRevealCommitTempo' });
    }
    await advanceTo(chain, cs, revealStart - 1);
    await inBlock(cs, [() => chain.revealWeights(c.hot[0], netuid, [uids[7]], [65_535], salt, 0n)]);
    const revealed = true;
    expect(revealed).toBe(true);
    expect(await chain.getWeights(netuid, uids[0])).toEqual([[uids[7], 65_535]]);
    expect((await chain.getBlock()).number).toBeGreaterThan(commitBlock);
    // setting the period in epochs writes blocks on 185: 3 epochs of tempo + 1 blocks
    await inBlock(cs, [() => chain.setHyperparameters(c.alice, netuid, { revealPeriodEpochs: 3 })]);
    expect(Number((await chain.api.query.subtensorModule.weightCommitRevealInterval(netuid)).toString())).toBe(3 * (TEMPO + 1));
    expect((await chain.getHyperparameters(netuid)).revealPeriodEpochs).toBe(3);
  }, 400_000);
});

/** The epoch input as the runtime sees it at `block` (state read one block earlier). */
async function epochInput(chain: SubtensorChain, netuid: number, block: number): Promise<EpochInput> {
  const mg = await chain.getMetagraph(netuid);
  const hp = await chain.getHyperparameters(netuid);
  const q = chain.api.query.subtensorModule;
  const rows = async (entries: typeof q.weights): Promise<SparseRow[]> => {
    const out: SparseRow[] = Array.from({ length: mg.n }, () => []);
    for (const [k, v] of await entries.entries(netuid)) out[Number(k.args[1].toPrimitive())] = v.toJSON() as SparseRow;
    return out;
  };
  const pending = ((await q.pendingEmission(netuid)) as unknown as { toBigInt(): bigint }).toBigInt();
  const perBlock = ((await q.emissionValues(netuid)) as unknown as { toBigInt(): bigint }).toBigInt();
  return {
    n: mg.n,
    stake: mg.stake,
    lastUpdate: mg.lastUpdate,
    blockAtRegistration: mg.blockAtRegistration,
    currentBlock: block,
    activityCutoff: hp.activityCutoff,
    validatorPermit: mg.validatorPermit,
    maxAllowedValidators: hp.maxAllowedValidators,
    weights: await rows(q.weights),
    bonds: await rows(q.bonds),
    kappa: hp.kappa,
    bondsPenalty: hp.bondsPenalty,
    bondsMovingAverage: hp.bondsMovingAverage,
    yuma3: false,
    liquidAlpha: false,
    alphaLow: hp.alphaLow,
    alphaHigh: hp.alphaHigh,
    alphaSigmoidSteepness: hp.alphaSigmoidSteepness,
    tempo: hp.tempo,
    lastMechanismStepBlock: 0,
    ownerUid: null,
    emission: pending + perBlock,
    commitRevealEnabled: false,
    earliestCommitBlock: Array.from({ length: mg.n }, () => null),
  };
}
