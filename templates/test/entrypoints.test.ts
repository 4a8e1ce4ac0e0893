import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalChain, startLocalnetServer } from 'subnetkit/chain';
import { createWallet, keypairFromUri, resolveWalletRef } from 'subnetkit/wallet';
import { parseMinerFlags, runMiner } from '../src/miner.ts';
import { parseValidatorFlags, runValidator } from '../src/validator.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('entry points against a localnet server', () => {
  it('miners register from the faucet via --register, the validator sets weights, all from wallet files and flags', async () => {
    const chain = await LocalChain.create({ blockTimeMs: 80, genesisSeed: 'template-entrypoints' });
    cleanups.push(() => chain.close());
    const server = await startLocalnetServer({ chain, host: '127.0.0.1', port: 0, blockTimeMs: 80 });
    cleanups.push(() => server.close());
    const walletPath = await mkdtemp(join(tmpdir(), 'puzzle-wallets-'));
    const { hotkey: vHot } = await createWallet(resolveWalletRef({ path: walletPath, name: 'validator' }, {}), { password: null });
    await createWallet(resolveWalletRef({ path: walletPath, name: 'honest' }, {}), { password: null });
    await createWallet(resolveWalletRef({ path: walletPath, name: 'cheat' }, {}), { password: null });

    // the subnet owner's hotkey is the validator's, so it may set weights before the first epoch
    const owner = keypairFromUri('//Alice');
    const netuid = await chain.registerNetwork(owner, vHot.ss58Address);
    await chain.startCall(owner, netuid);
    await chain.setHyperparameters(owner, netuid, { commitRevealWeightsEnabled: false, weightsSetRateLimit: 5, servingRateLimit: 0, immunityPeriod: 0 });
    if ((await chain.getUid(netuid, vHot.ss58Address)) === null) await chain.burnedRegister(owner, netuid, vHot.ss58Address);

    const common = ['--chain', server.url, '--netuid', String(netuid), '--wallet-path', walletPath, '--log-level', 'silent'];
    const honest = await runMiner(parseMinerFlags([...common, '--name', 'honest', '--host', '127.0.0.1', '--port', '0', '--external-ip', '127.0.0.1', '--register', '--metrics-port', '0'], {}));
    cleanups.push(() => honest.close());
    const cheat = await runMiner(parseMinerFlags([...common, '--name', 'cheat', '--host', '127.0.0.1', '--port', '0', '--external-ip', '127.0.0.1', '--register', '--behavior', 'wrong'], {}));
    cleanups.push(() => cheat.close());

    const stateDir = await mkdtemp(join(tmpdir(), 'puzzle-state-'));
    const v = await runValidator(parseValidatorFlags([...common, '--name', 'validator', '--state-dir', stateDir, '--round-interval-ms', '100', '--timeout-ms', '2000', '--metrics-port', '0'], {}));
    cleanups.push(() => v.close());

    const end = Date.now() + 40_000;
    let row: Array<[number, number]> = [];
    while (Date.now() < end) {
      row = await chain.getWeights(netuid, v.handle.state.uid!);
      if (row.some(([u]) => u === honest.handle.uid)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row.find(([u]) => u === honest.handle.uid)?.[1]).toBe(65535);
    expect(row.find(([u]) => u === cheat.handle.uid)?.[1] ?? 0).toBe(0);
    // the chain can show the weights before the validator has handled the call's reply: poll the counter
    let metrics = '';
    for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      metrics = await (await fetch(`http://127.0.0.1:${v.metricsPort}/metrics`)).text();
      if (/subnet_validator_weight_sets_total\{result="set"\} [1-9]/.test(metrics)) break;
    }
    expect(metrics).toMatch(/subnet_validator_weight_sets_total\{result="set"\} [1-9]/);
    // the miner's metrics: on their own loopback port, not on the axon port
    const minerMetrics = await (await fetch(`http://127.0.0.1:${honest.handle.metricsPort}/metrics`)).text();
    expect(minerMetrics).toMatch(/axon_requests_total\{route="PuzzleSynapse",status="200",caller_class="\w+",protocol="btauth"\} [1-9]/);
    expect((await fetch(`http://127.0.0.1:${honest.handle.port}/metrics`)).status).toBe(404);
  });

  it('a miner whose hotkey is not registered fails with a one-line error and a hint', async () => {
    const chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'template-unregistered' });
    cleanups.push(() => chain.close());
    const server = await startLocalnetServer({ chain, host: '127.0.0.1', port: 0 });
    cleanups.push(() => server.close());
    const owner = keypairFromUri('//Alice');
    const netuid = await chain.registerNetwork(owner, keypairFromUri('//Alice//o').ss58Address);
    const walletPath = await mkdtemp(join(tmpdir(), 'puzzle-wallets-'));
    await createWallet(resolveWalletRef({ path: walletPath, name: 'm' }, {}), { password: null });
    const err = await runMiner(parseMinerFlags(['--chain', server.url, '--netuid', String(netuid), '--wallet-path', walletPath, '--name', 'm', '--port', '0', '--log-level', 'silent'], {})).catch((e: unknown) => e);
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toMatch(/not registered on subnet/);
  });
});
