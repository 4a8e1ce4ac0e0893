import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RAO_PER_TAO, type LocalnetClient } from '../../framework/chain/index.ts';
import { Dendrite } from '../../framework/dendrite/index.ts';
import { keypairFromUri, type Keypair } from '../../framework/wallet/index.ts';
import { puzzleCommodity, verifyNonce } from '../../templates/src/commodity.ts';
import {
  ProcessGroup, TEMPLATE_MINER, connect, createWallets, freePort, logLines, readJson, startLocalnet, tempDir,
  type Localnet, type Proc, type ValidatorFile,
} from './support.ts';

/**
 * A whole subnet as separate processes: `subnet localnet`, four miners (two honest via `subnet miner`,
 * a wrong and a slow one via the template entry point) and `subnet validator`. Then the localnet is
 * SIGKILLed and restarted on the same state file and port while the miners and the validator keep running.
 */
describe.sequential('e2e: a subnet of real processes', () => {
  const group = new ProcessGroup();
  let dir: string;
  let wallets: string;
  let statePath: string;
  let net: Localnet;
  let client: LocalnetClient;
  let netuid: number;
  let owner: { coldkey: Keypair; hotkey: Keypair };
  let validator: Proc;
  let miners: Record<string, Proc>;
  const hotkeys: Record<string, string> = {};
  let env: NodeJS.ProcessEnv;
  const chainFlags = () => ['--chain', net.url, '--netuid', String(netuid)];

  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(25))));
  afterAll(async () => {
    await client?.close();
    await group.killAll();
  });

  beforeAll(async () => {
    dir = await tempDir('subnet');
    wallets = join(dir, 'wallets');
    statePath = join(dir, 'chain.json');
    env = { BT_WALLET_PATH: wallets };
    net = await startLocalnet(group, { port: await freePort(), state: statePath, fresh: true });
    client = await connect(net.url);
    const w = await createWallets(wallets, ['owner', 'honest1', 'honest2', 'wrong', 'slow']);
    owner = w.owner!;
    for (const [name, k] of Object.entries(w)) hotkeys[name] = k.hotkey.ss58Address;
  });

  it('registers, serves, sets weights, runs epochs and ranks the honest miners first', async () => {
    await group.cli(['faucet', '--name', 'owner', '--amount', '5000', '--chain', net.url], env);
    const created = await group.cli(['subnets', 'create', '--name', 'owner', '--chain', net.url], env);
    netuid = Number(/created subnet (\d+)/.exec(created)?.[1]);
    expect(Number.isInteger(netuid)).toBe(true);
    // emission starts only after the owner's start_call, as on subtensor
    expect(await group.cli(['subnets', 'start', '--name', 'owner', '--netuid', String(netuid), '--chain', net.url], env)).toContain('start_call done');
    // `subnets create` takes no hyperparameters: the owner sets fast epochs through the localnet client
    await client.setHyperparameters(owner.coldkey, netuid, { tempo: 10, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false, servingRateLimit: 0 });
    expect((await client.getHyperparameters(netuid)).tempo).toBe(10);

    const serve = ['--host', '127.0.0.1', '--port', '0', '--register', '--log-level', 'info', ...chainFlags()];
    miners = {
      honest1: group.subnet('miner honest1', ['miner', '--name', 'honest1', ...serve], env),
      honest2: group.subnet('miner honest2', ['miner', '--name', 'honest2', ...serve], env),
      wrong: group.spawn('miner wrong', ['--import', 'tsx', TEMPLATE_MINER, '--name', 'wrong', '--behavior', 'wrong', ...serve], env),
      slow: group.spawn('miner slow', ['--import', 'tsx', TEMPLATE_MINER, '--name', 'slow', '--behavior', 'slow', '--slow-ms', '1200', ...serve], env),
    };
    // the owner neuron exists since `subnets create`; `register` must say so; stake while the miners start
    const [registered, staked] = await Promise.all([
      group.cli(['register', '--name', 'owner', ...chainFlags()], env),
      group.cli(['stake', 'add', '--name', 'owner', '--amount', '100', ...chainFlags()], env),
    ]);
    expect(registered).toMatch(/already registered on subnet \d+ as uid 0/);
    expect(staked).toMatch(/staked 100(\.0+)? TAO to /);
    // axons announced on chain, at the ports the miners actually bound
    const mg = await group.until('4 miners serving on chain', async () => {
      const m = await client.getMetagraph(netuid);
      const ok = Object.keys(miners).every((n) => {
        const uid = m.hotkeys.indexOf(hotkeys[n]!);
        return uid >= 0 && m.axons[uid]?.ip === '127.0.0.1' && (m.axons[uid]?.port ?? 0) > 0;
      });
      return ok && m;
    }, 60_000);
    const uid = (name: string) => mg.hotkeys.indexOf(hotkeys[name]!);
    for (const name of ['honest1', 'honest2']) {
      const started = await miners[name]!.waitFor(/"msg":"miner started"/);
      expect(JSON.parse(started.input.split('\n').find((l) => l.includes('"miner started"'))!).port).toBe(mg.axons[uid(name)]!.port);
    }

    const vState = join(dir, 'validator');
    validator = group.subnet('validator', ['validator', '--name', 'owner', '--state-dir', vState, '--resync-blocks', '2', '--metrics-port', '0', ...chainFlags()], env);
    const vuid = uid('owner');
    expect(vuid).toBeGreaterThanOrEqual(0);
    const epochsBefore = await client.getEpochIndex(netuid);

    // weights visible on chain: both honest miners weighted, the wrong one not
    const row = await group.until('weights on chain for both honest miners', async () => {
      const r = await client.getWeights(netuid, vuid);
      const w = new Map(r);
      return (w.get(uid('honest1')) ?? 0) > 0 && (w.get(uid('honest2')) ?? 0) > 0 && w;
    }, 60_000);
    expect(row.get(uid('wrong')) ?? 0).toBe(0);
    expect(Math.min(row.get(uid('honest1'))!, row.get(uid('honest2'))!)).toBeGreaterThan(row.get(uid('slow')) ?? 0);

    // epochs run on the weights: incentive ranks both honest miners above the wrong and the slow one
    const ranked = await group.until('incentive ranking honest miners first', async () => {
      const m = await client.getMetagraph(netuid);
      const inc = (n: string) => m.incentive[uid(n)]!;
      return Math.min(inc('honest1'), inc('honest2')) > Math.max(inc('wrong'), inc('slow')) && m;
    }, 45_000);
    expect(ranked.incentive[uid('wrong')]).toBe(0);
    expect(await client.getEpochIndex(netuid)).toBeGreaterThan(epochsBefore);
    expect(ranked.lastUpdate[vuid]).toBeGreaterThan(0);

    // the CLI reads the same chain state
    const [metagraphOut, shown] = await Promise.all([
      group.cli(['metagraph', '--json', ...chainFlags()], env),
      group.cli(['weights', 'show', '--uid', String(vuid), ...chainFlags()], env),
    ]);
    const json = JSON.parse(metagraphOut) as {
      n: number;
      neurons: Array<{ uid: number; hotkey: string; incentive: number; axon: string; validatorPermit: boolean }>;
    };
    expect(json.n).toBe(5);
    const byName = (n: string) => json.neurons.find((x) => x.hotkey === hotkeys[n])!;
    expect(byName('honest1').axon).toBe(`127.0.0.1:${mg.axons[uid('honest1')]!.port}`);
    expect(Math.min(byName('honest1').incentive, byName('honest2').incentive)).toBeGreaterThan(Math.max(byName('wrong').incentive, byName('slow').incentive));
    expect(byName('owner').validatorPermit).toBe(true);
    expect(shown).toMatch(new RegExp(`^\\s*${uid('honest1')}\\s+\\d+`, 'm'));

    const file = await readJson<ValidatorFile>(join(vState, 'validator.json'));
    expect(file!.step).toBeGreaterThan(0);
    expect(file!.scores[hotkeys.honest1!]).toBeGreaterThan(file!.scores[hotkeys.wrong!] ?? 0);
  }, 150_000);

  it('the miners and the validator survive a SIGKILLed localnet and continue after its restart', async () => {
    expect(validator, 'needs the subnet from the previous test').toBeDefined();
    const metricsPort = Number(JSON.parse((await validator.waitFor(/.*"msg":"metrics on \/metrics".*/)).at(0)!).port);
    const okQueries = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(/subnet_validator_queries_total\{outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const vuid = (await client.getUid(netuid, hotkeys.owner!))!;
    const before = { head: (await client.getBlock()).number, mg: await client.getMetagraph(netuid) };

    await net.proc.kill('SIGKILL');
    // downtime = the restart's startup time (seconds on a loaded machine)
    net = await startLocalnet(group, { port: net.port, state: statePath, name: 'localnet (restarted)' });
    const restartHead = (await client.getBlock()).number;
    expect(restartHead).toBeGreaterThanOrEqual(before.head);
    const mg = await client.getMetagraph(netuid);
    expect(mg.hotkeys).toEqual(before.mg.hotkeys);
    expect(mg.stake[vuid]).toBeGreaterThanOrEqual(before.mg.stake[vuid]!);
    expect(mg.axons).toEqual(before.mg.axons);

    // the validator reconnects: new weights after the restart, still honest-first
    const okBefore = await okQueries();
    const after = await group.until('weights set after the restart', async () => {
      const m = await client.getMetagraph(netuid);
      return m.lastUpdate[vuid]! > restartHead && m;
    }, 45_000);
    const row = new Map(await client.getWeights(netuid, vuid));
    const u = (n: string) => after.hotkeys.indexOf(hotkeys[n]!);
    expect(Math.min(row.get(u('honest1')) ?? 0, row.get(u('honest2')) ?? 0)).toBeGreaterThan(row.get(u('wrong')) ?? 0);
    // the miners still answer the validator (their caller lists come from the restarted chain)
    await group.until('more successful queries after the restart', async () => (await okQueries()) >= okBefore + 4, 30_000);
    // a miner's blacklist only admits callers it has seen on chain: a hotkey registered after the restart
    // gets through only if the miner follows the restarted chain's blocks again
    const probe = keypairFromUri('//E2eProbe');
    const dendrite = new Dendrite(probe);
    try {
      const axon = after.axons[u('honest1')]!;
      const target = { ip: axon.ip, port: axon.port, hotkey: hotkeys.honest1! };
      const [rejected] = await dendrite.forward([target], puzzleCommodity.synapse, { seed: 'ab'.repeat(32), difficulty: 4 }, { timeoutMs: 3000 });
      expect(rejected?.statusCode).toBe(403);
      await client.faucet(owner.coldkey.ss58Address, 10n * RAO_PER_TAO);
      await client.burnedRegister(owner.coldkey, netuid, probe.ss58Address);
      const answer = await group.until('the miner admitting a hotkey registered after the restart', async () => {
        const [r] = await dendrite.forward([target], puzzleCommodity.synapse, { seed: 'ab'.repeat(32), difficulty: 4 }, { timeoutMs: 3000 });
        return r?.ok && r;
      }, 30_000, 300);
      expect(verifyNonce({ seed: 'ab'.repeat(32), difficulty: 4 }, answer.response?.nonce)).toBe(true);
    } finally {
      await dendrite.close();
    }
    for (const p of [validator, ...Object.values(miners)]) expect(p.exited(), `${p.name} exited`).toBe(false);
    expect(logLines(validator, 'validator started')).toHaveLength(1);
  });
});
