import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalnetClient } from '../../framework/chain/localnet-client.ts';
import { classifyChainSpec, connectChain } from '../../framework/chain/index.ts';
import { createServer } from 'node:net';
import { metagraphCallerProvider } from '../../framework/chain/metagraph-provider.ts';
import { SIGNING_CONTEXT } from '../../framework/chain/wire.ts';
import { toJson } from '../../framework/chain/codec.ts';
import type { BlockInfo } from '../../framework/chain/types.ts';
import { sign, u8aToHex } from '../../framework/wallet/keypair.ts';
import { chainErrorCode, keys } from './helpers.ts';
import { killHard, runLocalnetToExit, startLocalnetProcess, waitFor, type LocalnetProcess } from './localnet-process.ts';

const TAO = 1_000_000_000n;
let dir: string;
let proc: LocalnetProcess;
let client: LocalnetClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'localnet-test-'));
  proc = await startLocalnetProcess(['--port', '0', '--block-time', '100', '--state', join(dir, 'state.json')]);
  client = await LocalnetClient.connect(proc.url, { maxReconnectDelayMs: 500 });
});

afterAll(async () => {
  await client?.close();
  if (proc) await killHard(proc);
  rmSync(dir, { recursive: true, force: true });
});

async function postSubmit(body: unknown): Promise<{ status: number; json: { ok: boolean; error?: { code: string } } }> {
  const res = await fetch(`${proc.url}/submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { ok: boolean; error?: { code: string } } };
}

describe('localnet server + LocalnetClient (real child process)', () => {
  it('prints dev accounts and serves signed writes and reads', async () => {
    expect(proc.output()).toMatch(/\/\/Alice\s+5/);
    const alice = await keys('//Alice');
    const ownerHot = await keys('//Alice//owner');
    const bob = await keys('//Bob');
    const m1 = await keys('//Bob//m1');
    const netuid = await client.registerNetwork(alice, ownerHot.ss58Address, { tempo: 10, commitRevealWeightsEnabled: false });
    await client.startCall(alice, netuid);
    await client.setHyperparameters(alice, netuid, { weightsVersionKey: 3n });
    const hp = await client.getHyperparameters(netuid);
    expect(hp).toMatchObject({ tempo: 10, commitRevealWeightsEnabled: false, weightsVersionKey: 3n });
    const uid = await client.burnedRegister(bob, netuid, m1.ss58Address);
    expect(uid).toBe(1);
    expect(await client.getUid(netuid, m1.ss58Address)).toBe(1);
    await client.addStake(bob, m1.ss58Address, netuid, 5n * TAO);
    const mg = await client.getMetagraph(netuid);
    expect(mg.hotkeys).toEqual([ownerHot.ss58Address, m1.ss58Address]);
    expect(mg.stake[1]).toBe(5n * TAO);
    expect(await client.getStake(netuid, m1.ss58Address, bob.ss58Address)).toBe(5n * TAO);
    // subtensor error names come back as ChainError codes
    expect(await chainErrorCode(client.burnedRegister(bob, netuid, m1.ss58Address))).toBe('HotKeyAlreadyRegisteredInSubNet');
    expect(await chainErrorCode(client.setWeights(ownerHot, netuid, [1], [1], 2n))).toBe('IncorrectWeightVersionKey');
    // a hotkey cannot sign a coldkey call
    expect(await chainErrorCode(client.addStake(m1, m1.ss58Address, netuid, TAO))).toBe('BadOrigin');
    // dev faucet
    const poor = await keys('//Poor');
    await client.faucet(poor.ss58Address, 7n * TAO);
    expect(await client.getBalance(poor.ss58Address)).toBe(7n * TAO);
  });

  it('rejects a forged signature and a replayed request', async () => {
    const alice = await keys('//Alice');
    const mallory = await keys('//Mallory');
    const payload = toJson({
      genesisHash: client.info.genesisHash,
      call: 'registerNetwork',
      args: { ownerHotkey: (await keys('//Alice//forged')).ss58Address },
      nonce: 'ab'.repeat(16),
      timestamp: Date.now(),
    });
    // signed by Mallory, claiming to be Alice
    const forged = await postSubmit({ payload, signature: u8aToHex(sign(mallory, SIGNING_CONTEXT + payload)), signer: alice.ss58Address });
    expect(forged.status).toBe(401);
    expect(forged.json.error?.code).toBe('BadProof');
    // a genuine request goes through once, then its replay is refused
    const body = { payload, signature: u8aToHex(sign(alice, SIGNING_CONTEXT + payload)), signer: alice.ss58Address };
    const first = await postSubmit(body);
    expect(first.json.ok).toBe(true);
    const again = await postSubmit(body);
    expect(again.status).toBe(409);
    expect(again.json.error?.code).toBe('Stale');
    // a tampered payload no longer matches its signature
    const tampered = await postSubmit({ ...body, payload: payload.replace('registerNetwork', 'registerNetwork ') });
    expect(tampered.json.error?.code).toBe('BadProof');
    // garbage is a clean 400, not a crash
    const junk = await postSubmit({ nonsense: true });
    expect(junk.status).toBe(400);
  });

  it('streams blocks in order over WebSocket and feeds metagraphCallerProvider', async () => {
    const seen: BlockInfo[] = [];
    const unsub = client.subscribeBlocks((b) => seen.push(b));
    await waitFor(() => seen.length >= 5, 15_000, '5 blocks');
    unsub();
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.number).toBe(seen[i - 1]!.number + 1);
    expect(new Set(seen.map((b) => b.hash)).size).toBe(seen.length);
    const bob = await keys('//Bob');
    const m1 = await keys('//Bob//m1');
    const provider = await metagraphCallerProvider(client, 1);
    expect(provider.lookup(m1.ss58Address)?.uid).toBe(1);
    const before = provider.lookup(m1.ss58Address)!.stake;
    await client.addStake(bob, m1.ss58Address, 1, 2n * TAO);
    await waitFor(() => (provider.lookup(m1.ss58Address)?.stake ?? 0n) > before, 15_000, 'provider refresh');
    expect(provider.lookup((await keys('//Nobody')).ss58Address)).toBeUndefined();
    provider.close();
    // chain events arrive over the same socket
    const events: string[] = [];
    const unsubEvents = client.subscribeEvents((e) => events.push(`${e.name}:${String(e.data.hotkey ?? '')}`));
    const n0 = seen.length;
    const unsubBlocks = client.subscribeBlocks((blk) => seen.push(blk));
    await waitFor(() => seen.length > n0, 10_000, 'socket live again'); // a block proves the subscription is active
    const m2 = await keys('//Bob//m2');
    await client.burnedRegister(bob, 1, m2.ss58Address);
    await waitFor(() => events.includes(`NeuronRegistered:${m2.ss58Address}`), 10_000, 'NeuronRegistered event');
    unsubEvents();
    unsubBlocks();
  });

  it('recovers its state after SIGKILL and the client resubscribes', async () => {
    const seen: BlockInfo[] = [];
    const unsub = client.subscribeBlocks((b) => seen.push(b));
    await waitFor(() => seen.length >= 3, 15_000, 'blocks before kill');
    const m1 = await keys('//Bob//m1');
    const stakeBefore = (await client.getMetagraph(1)).stake[1]!;
    await killHard(proc);
    const lastSeen = seen[seen.length - 1]!.number;
    proc = await startLocalnetProcess(['--port', String(proc.port), '--block-time', '100', '--state', join(dir, 'state.json')]);
    // every block a subscriber saw was persisted first, so the chain continues past it
    const head = await client.getBlock();
    expect(head.number).toBeGreaterThanOrEqual(lastSeen);
    expect((await client.getMetagraph(1)).stake[1]).toBeGreaterThanOrEqual(stakeBefore);
    expect(await client.getUid(1, m1.ss58Address)).toBe(1);
    const count = seen.length;
    await waitFor(() => seen.length >= count + 3, 20_000, 'blocks after reconnect');
    unsub();
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.number).toBe(seen[i - 1]!.number + 1);
    // signed writes still verify against the same genesis
    const fresh = (await connectChain(proc.url)) as LocalnetClient;
    expect(fresh.info.genesisHash).toBe(client.info.genesisHash);
    await fresh.close();
  });

  it('a second localnet on the same port exits 2 with a one-line error', async () => {
    const r = await runLocalnetToExit(['--port', String(proc.port), '--ephemeral']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: port ${proc.port} on 127.0.0.1 is already in use\\nhint: `));
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it('connectChain tells localnet, subtensor nodes and SDK network names apart', async () => {
    expect(classifyChainSpec('local')).toEqual({ kind: 'local' });
    expect(classifyChainSpec('http://127.0.0.1:9944')).toEqual({ kind: 'localnet', url: 'http://127.0.0.1:9944' });
    expect(classifyChainSpec('ws://127.0.0.1:9944/ws')).toEqual({ kind: 'localnet', url: 'ws://127.0.0.1:9944/ws' });
    expect(classifyChainSpec('ws://127.0.0.1:9944')).toEqual({ kind: 'subtensor', url: 'ws://127.0.0.1:9944' });
    expect(classifyChainSpec('wss://entrypoint-finney.opentensor.ai:443')).toEqual({ kind: 'subtensor', url: 'wss://entrypoint-finney.opentensor.ai:443' });
    expect(classifyChainSpec('finney')).toEqual({ kind: 'subtensor', url: 'wss://entrypoint-finney.opentensor.ai:443' });
    expect(classifyChainSpec('test')).toEqual({ kind: 'subtensor', url: 'wss://test.finney.opentensor.ai:443' });
    expect(classifyChainSpec('archive')).toEqual({ kind: 'subtensor', url: 'wss://archive.chain.opentensor.ai:443' });
    expect(classifyChainSpec('ftp://x')).toBeNull();
    await expect(connectChain('ftp://x')).rejects.toThrow(/unknown chain/);
    // nothing listens on a port we just closed: one clear line, no hang
    const closed = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => r(port));
      });
    });
    await expect(connectChain(`ws://127.0.0.1:${closed}`, { timeoutMs: 1500 })).rejects.toThrow(/cannot connect to the subtensor node at ws:\/\/127\.0\.0\.1:\d+: ConnectionFailed: connect ECONNREFUSED/);
  });
});
