import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { startLocalnetServer, type LocalnetServer } from '../../framework/chain/localnet-server.ts';
import { raoToTaoInText } from '../../framework/cli/chain-hints.ts';
import { normaliseBtcliFlags } from '../../framework/cli/btcli-flags.ts';
import { createWallet, resolveWalletRef, type Keypair } from '../../framework/wallet/index.ts';
import { runSubnet, type ProcessResult } from '../support/process.ts';

// The paths a new user takes, each defect found that way pinned by a test: real `subnet` processes
// against a real localnet server (in this process, manual blocks, so timing is ours).

// Each step runs several `subnet` processes; on a loaded 2-core machine one start costs seconds.
vi.setConfig({ testTimeout: 240_000 });

let chain: LocalChain;
let server: LocalnetServer;
let root: string;
let wallets: string;
const keys: Record<string, { coldkey: Keypair; hotkey: Keypair }> = {};
let netuid: number;

const env = () => ({ ...process.env, BT_WALLET_PATH: wallets, SUBNET_CHAIN: server.url, SUBNET_NETUID: String(netuid), NODE_NO_WARNINGS: '1' });
const subnet = (args: string[], opts: { cwd?: string } = {}): Promise<ProcessResult> => runSubnet(args, { env: env(), timeoutMs: 90_000, ...opts });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'subnetkit-newuser-'));
  wallets = join(root, 'wallets');
  for (const name of ['owner', 'validator', 'miner']) keys[name] = await createWallet(resolveWalletRef({ path: wallets, name }, {}), { password: null });
  chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'new-user' });
  for (const k of Object.values(keys)) await chain.faucet(k.coldkey.ss58Address, 1000n * 1_000_000_000n);
  netuid = await chain.registerNetwork(keys.owner!.coldkey, keys.owner!.hotkey.ss58Address, { tempo: 10, commitRevealWeightsEnabled: false, weightsSetRateLimit: 100 });
  await chain.startCall(keys.owner!.coldkey, netuid);
  await chain.burnedRegister(keys.validator!.coldkey, netuid, keys.validator!.hotkey.ss58Address);
  await chain.produceBlocks(2);
  server = await startLocalnetServer({ chain, port: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await chain?.close();
});

describe('usage basics', () => {
  it('`subnet` alone prints help and exits 2; --version prints the version', async () => {
    const [bare, version] = await Promise.all([subnet([]), subnet(['--version'])]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: subnet');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rewrites btcli spellings of flags to ours', () => {
    expect(normaliseBtcliFlags(['wallet', 'balance', '--wallet.name', 'a', '--wallet-hotkey=h', '--subtensor.chain_endpoint', 'ws://x', '-y', '--', '--wallet.name'])).toEqual([
      'wallet', 'balance', '--name', 'a', '--hotkey=h', '--chain', 'ws://x', '--', '--wallet.name',
    ]);
  });

  it('prints chain amounts in TAO', () => {
    expect(raoToTaoInText('NotEnoughBalanceToStake: registration burn is 170776203 RAO')).toBe('NotEnoughBalanceToStake: registration burn is 0.170776203 TAO');
  });
});

describe('wallet and stake commands (btcli parity)', () => {
  it('wallet balance with btcli flags and with a btcli-style nested config file', async () => {
    const cfg = join(root, 'btcli.yaml');
    writeFileSync(cfg, `wallet:\n  name: validator\n  path: ${wallets}\nsubtensor:\n  chain_endpoint: ${server.url}\n`);
    const [flags, file] = await Promise.all([
      subnet(['wallet', 'balance', '--wallet.name', 'validator', '--subtensor.chain_endpoint', server.url, '--json']),
      subnet(['wallet', 'balance', '--config', cfg, '--json']),
    ]);
    expect(flags.code, flags.out).toBe(0);
    expect(file.code, file.out).toBe(0);
    const balance = await chain.getBalance(keys.validator!.coldkey.ss58Address);
    for (const r of [flags, file]) expect(JSON.parse(r.stdout)).toMatchObject({ wallet: 'validator', freeRao: balance.toString() });
  });

  it('refuses amounts beyond u64 RAO, and stakes beyond the balance with a faucet hint', async () => {
    const [faucet, huge, tooMuch] = await Promise.all([
      subnet(['faucet', '--name', 'owner', '--amount', '99999999999999']),
      subnet(['stake', 'add', '--name', 'validator', '--amount', '18446744074']),
      subnet(['stake', 'add', '--name', 'validator', '--amount', '5000']),
    ]);
    expect(faucet.code).toBe(2);
    expect(faucet.stderr).toContain('more than a balance can hold');
    expect(huge.code).toBe(2);
    expect(tooMuch.code).toBe(2);
    expect(tooMuch.stderr).toMatch(/cannot stake 5000 TAO: coldkey \S+ has [\d.]+ TAO/);
    expect(tooMuch.stderr).toContain('subnet faucet');
  });

  it('stake add, stake list, wallet overview, transfer, with checked addresses', async () => {
    const add = await subnet(['stake', 'add', '--name', 'validator', '--amount', '500']);
    expect(add.code, add.out).toBe(0);
    const [list, overview, badHotkey, removeHelp] = await Promise.all([
      subnet(['stake', 'list', '--name', 'validator']),
      subnet(['wallet', 'overview', '--name', 'validator']),
      subnet(['stake', 'remove', '--name', 'validator', '--amount', '1', '--hotkey-address', 'nope']),
      subnet(['stake', 'remove', '--help']),
    ]);
    expect(list.stdout).toMatch(/total 500 TAO/);
    expect(overview.stdout).toContain(`${keys.validator!.hotkey.ss58Address.slice(0, 6)}`);
    expect(badHotkey.code).toBe(2);
    expect(badHotkey.stderr).toContain("--hotkey-address 'nope' is not a valid SS58 address");
    expect(removeHelp.stdout).toContain('hotkey to unstake from');
    const before = await chain.getBalance(keys.miner!.coldkey.ss58Address);
    const sent = await subnet(['wallet', 'transfer', '--name', 'owner', '--dest', keys.miner!.coldkey.ss58Address, '--amount', '1.5']);
    expect(sent.code, sent.out).toBe(0);
    expect(await chain.getBalance(keys.miner!.coldkey.ss58Address)).toBe(before + 1_500_000_000n);
  });

  it('says which wallet is missing, not which hotkey', async () => {
    const r = await subnet(['register', '--name', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("wallet 'nosuch' does not exist");
    expect(r.stderr).toContain('subnet wallet create --name nosuch');
  });
});

describe('subnets, metagraph and weights', () => {
  it('subnets list and hyperparameters (burn in TAO); a bad value names what it takes', async () => {
    const [list, hp, bad] = await Promise.all([
      subnet(['subnets', 'list']),
      subnet(['subnets', 'hyperparameters']),
      subnet(['subnets', 'set', '--name', 'owner', 'tempo=abc']),
    ]);
    expect(list.stdout).toMatch(new RegExp(`^\\s+${netuid}\\s+2/256`, 'm'));
    expect(list.stdout).toContain('1 subnet');
    expect(hp.stdout).toMatch(/^burn\s+[\d.]+ τ$/m);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("tempo takes an integer, got 'abc'");
    expect(bad.stderr).toContain('tempo=10 (its current value)');
  });

  it('metagraph: coldkeys, updated as blocks ago, JSON in both units', async () => {
    const [table, json] = await Promise.all([subnet(['metagraph']), subnet(['metagraph', '--json'])]);
    expect(table.stdout).toMatch(/2 neurons/);
    expect(table.stdout).toContain('coldkey');
    expect(table.stdout).toContain(keys.owner!.coldkey.ss58Address.slice(0, 6));
    const mg = JSON.parse(json.stdout) as { neurons: Array<Record<string, unknown>> };
    const v = mg.neurons[1]!;
    expect(v.stakeRao).toBe('500000000000');
    expect(v.stakeTao).toBe(500);
    expect(typeof v.updatedBlocksAgo).toBe('number');
  });

  it('weights: all zeros refused, mismatched lists hinted, unknown uid refused, too fast says when', async () => {
    const [zeros, mismatch, show] = await Promise.all([
      subnet(['weights', 'set', '--name', 'owner', '--uids', '0,1', '--weights', '0,0']),
      subnet(['weights', 'set', '--name', 'owner', '--uids', '0,1', '--weights', '1']),
      subnet(['weights', 'show', '--uid', '99']),
    ]);
    expect(zeros.code).toBe(2);
    expect(zeros.stderr).toContain('all weights are zero');
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain('hint: give one weight per uid');
    expect(show.code).toBe(2);
    expect(show.stderr).toContain('uid 99 is not registered');
    const first = await subnet(['weights', 'set', '--name', 'owner', '--uids', '1', '--weights', '1']);
    expect(first.code, first.out).toBe(0);
    const again = await subnet(['weights', 'set', '--name', 'owner', '--uids', '1', '--weights', '1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/SettingWeightsTooFast: .*next allowed at block \d+/);
  });

  it('weights commit then reveal (commit-reveal v2) from the CLI', async () => {
    const owner = keys.owner!;
    await chain.setHyperparameters(owner.coldkey, netuid, { commitRevealWeightsEnabled: true, weightsSetRateLimit: 0, revealPeriodEpochs: 1 });
    const commit = await subnet(['weights', 'commit', '--name', 'owner', '--uids', '1', '--weights', '1', '--salt', '1,2,3,4,5,6,7,8']);
    expect(commit.code, commit.out).toBe(0);
    const reveal = /subnet (weights reveal .*)$/m.exec(commit.stdout)![1]!.split(' ');
    await chain.produceBlocks(12); // into the next epoch: the reveal window
    const done = await subnet([...reveal, '--name', 'owner']);
    expect(done.code, done.out).toBe(0);
    expect(await chain.getWeights(netuid, 0)).toEqual([[1, 65535]]);
  });
});

describe('start-up mistakes', () => {
  it('config files: a key with no value, and YAML errors, name the line', async () => {
    const empty = join(root, 'empty.yaml');
    writeFileSync(empty, 'name:\n');
    const broken = join(root, 'broken.yaml');
    writeFileSync(broken, 'chain: x\nfoo: [\n');
    const [a, b] = await Promise.all([subnet(['wallet', 'balance', '--config', empty]), subnet(['metagraph', '--config', broken])]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain(`name in ${empty} has no value`);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/is not valid YAML/);
    expect(b.stderr).toMatch(/hint: line \d+:/);
  });

  it('commodity files: CommonJS packages and syntax errors get a clear message with the location', async () => {
    const cjs = join(root, 'cjs');
    mkdirSync(cjs);
    writeFileSync(join(cjs, 'package.json'), '{"name":"x"}');
    writeFileSync(join(cjs, 'c.ts'), "import { z } from 'zod';\nexport default { z };\n");
    const esm = join(root, 'esm');
    mkdirSync(esm);
    writeFileSync(join(esm, 'package.json'), '{"name":"y","type":"module"}');
    writeFileSync(join(esm, 'bad.ts'), 'export const x = {\n  a: 1,,\n};\n');
    const [a, b] = await Promise.all([
      subnet(['validator', '--name', 'validator', '--commodity', join(cjs, 'c.ts')]),
      subnet(['validator', '--name', 'validator', '--commodity', join(esm, 'bad.ts')]),
    ]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('has no "type": "module"');
    expect(a.stderr).not.toContain('cycle');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${join(esm, 'bad.ts')}:2:7: ERROR`);
  });

  it('miner --host that is no address of this machine: one line, exit 2, no stack trace', async () => {
    const r = await subnet(['miner', '--name', 'miner', '--register', '--host', '999.1.1.1', '--port', '0', '--log-level', 'silent']);
    expect(r.code, r.out).toBe(2);
    expect(r.stderr).toContain("cannot bind axon to '999.1.1.1'");
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
