import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalChain, startLocalnetServer } from '../../framework/chain/index.ts';
import { Dendrite } from '../../framework/dendrite/index.ts';
import { keypairFromUri } from '../../framework/wallet/index.ts';
import { puzzleCommodity } from '../../templates/src/commodity.ts';
import { ProcessGroup, createWallets, logLines, tempDir } from '../e2e/support.ts';

/** `subnet miner` as a process: --metrics-on-axon with an allow-list, --metrics-port off, debug request lines. */
describe('subnet miner: metrics flags and request logs (real process, real sockets)', () => {
  const group = new ProcessGroup();
  const cleanups: Array<() => Promise<void>> = [];
  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(25))));
  afterAll(async () => {
    await group.killAll();
    for (const c of cleanups.reverse()) await c();
  });

  it('serves /metrics on the axon port only to --metrics-allow, and logs each request at debug as JSON when piped', async () => {
    const chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'cli-miner-ops' });
    const server = await startLocalnetServer({ chain, host: '127.0.0.1', port: 0 });
    cleanups.push(() => chain.close(), () => server.close());
    const owner = keypairFromUri('//Alice');
    const validator = keypairFromUri('//Alice//cli-ops-validator');
    const netuid = await chain.registerNetwork(owner, validator.ss58Address);
    await chain.startCall(owner, netuid);
    const dir = await tempDir('miner-ops');
    const wallets = join(dir, 'wallets');
    const { m1 } = await createWallets(wallets, ['m1', 'm2']);
    const env = { BT_WALLET_PATH: wallets };
    const common = ['--chain', server.url, '--netuid', String(netuid), '--register', '--host', '127.0.0.1', '--port', '0', '--log-level', 'debug'];
    const onAxon = group.subnet('miner on-axon', ['miner', '--name', 'm1', ...common, '--metrics-on-axon', '--metrics-allow', '127.0.0.1,::1'], env);
    const denied = group.subnet('miner denied', ['miner', '--name', 'm2', ...common, '--metrics-on-axon', '--metrics-allow', '10.0.0.0/8', '--metrics-port', 'off'], env);
    const port = async (p: typeof onAxon) => Number(JSON.parse((await p.waitFor(/^\{.*"msg":"miner serving.*$/m, 90_000))[0]).port);
    const [p1, p2] = await Promise.all([port(onAxon), port(denied)]);

    const target = { ip: '127.0.0.1', port: p1, hotkey: m1!.hotkey.ss58Address };
    const r = await new Dendrite({ keypair: validator }).call(target, puzzleCommodity.synapse, { seed: 'ab'.repeat(32), difficulty: 1 }, { timeoutMs: 10_000 });
    expect(r.ok, r.statusMessage).toBe(true);

    const allowed = await fetch(`http://127.0.0.1:${p1}/metrics`);
    const text = await allowed.text();
    expect(allowed.status).toBe(200);
    expect(text).toMatch(/axon_requests_total\{route="PuzzleSynapse",status="200",caller_class="registered",protocol="btauth"\} 1/);
    expect((await fetch(`http://127.0.0.1:${p2}/metrics`)).status).toBe(404);
    // neither runs a separate metrics server
    expect(logLines(onAxon, 'metrics on /metrics')).toHaveLength(0);
    expect(logLines(denied, 'metrics on /metrics')).toHaveLength(0);

    const lines = await group.until('the debug request line', () => {
      const found = onAxon.output().split('\n').filter((l) => l.startsWith('{') && l.includes('"route":"PuzzleSynapse"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      return found.length > 0 ? found : false;
    });
    console.log(`miner debug line: ${JSON.stringify(lines[0])}`);
    expect(lines[0]).toMatchObject({ level: 20, role: 'miner', callerClass: 'registered', protocol: 'btauth', status: r.statusCode });
    expect(String(lines[0]!.callerHotkey)).toBe(`${validator.ss58Address.slice(0, 8)}…${validator.ss58Address.slice(-4)}`);
  }, 180_000);
});
