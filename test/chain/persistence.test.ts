import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { UserError } from '../../framework/errors.ts';
import { keys } from './helpers.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'chain-state-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('LocalChain persistence', () => {
  it('reloads exactly the state it wrote, and --fresh starts over', async () => {
    const path = join(tmp(), 'state.json');
    const a = await LocalChain.create({ blockTimeMs: 0, statePath: path });
    const alice = await keys('//Alice');
    const netuid = await a.registerNetwork(alice, (await keys('//Alice//owner')).ss58Address, { tempo: 5 });
    await a.startCall(alice, netuid);
    await a.burnedRegister(alice, netuid, (await keys('//Alice//m')).ss58Address);
    await a.produceBlocks(7); // includes an epoch
    const head = await a.getBlock();
    const mg = await a.getMetagraph(netuid);
    const hp = await a.getHyperparameters(netuid);
    await a.close();

    const b = await LocalChain.create({ blockTimeMs: 0, statePath: path });
    expect(b.genesisHash).toBe(a.genesisHash);
    expect(await b.getBlock()).toEqual(head);
    expect(await b.getMetagraph(netuid)).toEqual(mg);
    expect(await b.getHyperparameters(netuid)).toEqual(hp);
    expect(await b.getEpochIndex(netuid)).toBe(1);
    expect((await b.produceBlocks(1)).number).toBe(head.number + 1);
    await b.close();

    const c = await LocalChain.create({ blockTimeMs: 0, statePath: path, fresh: true });
    expect((await c.getBlock()).number).toBe(0);
    expect(await c.subnetExists(netuid)).toBe(false);
    await c.close();
  });

  it('refuses a corrupt state file with a one-line UserError and cleans up stale temp files', async () => {
    const dir = tmp();
    const path = join(dir, 'state.json');
    writeFileSync(path, '{"version": 1, "head": 42}');
    writeFileSync(join(dir, '.state.json.123.abcd.tmp'), 'partial');
    const err = await LocalChain.create({ blockTimeMs: 0, statePath: path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/chain state .* is not valid/);
    expect((err as UserError).message).not.toContain('\n');
    expect((err as UserError).hint).toMatch(/--fresh/);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});
