import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalnetClient } from '../../framework/chain/index.ts';
import {
  ProcessGroup, connect, createSubnet, createWallets, logLines, readJson, startLocalnet, tempDir,
  type PendingFile, type ValidatorFile,
} from './support.ts';

const COMMODITY = fileURLToPath(new URL('./fixtures/delayed-commodity.ts', import.meta.url));

describe('e2e: validator SIGKILL and restart', () => {
  const group = new ProcessGroup();
  let client: LocalnetClient | undefined;
  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(25))));
  afterAll(async () => {
    await client?.close();
    await group.killAll();
  });

  it('resumes its step, scores and pending delayed tasks instead of starting over', async () => {
    const dir = await tempDir('vrestart');
    const wallets = join(dir, 'wallets');
    const env = { BT_WALLET_PATH: wallets };
    const net = await startLocalnet(group, { port: 0, state: join(dir, 'chain.json'), fresh: true });
    client = await connect(net.url);
    const w = await createWallets(wallets, ['owner', 'miner']);
    const netuid = await createSubnet(client, w.owner!, { tempo: 10, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false, servingRateLimit: 0 });
    const chainFlags = ['--chain', net.url, '--netuid', String(netuid), '--commodity', COMMODITY];
    const minerHotkey = w.miner!.hotkey.ss58Address;

    group.subnet('miner', ['miner', '--name', 'miner', '--host', '127.0.0.1', '--port', '0', '--register', ...chainFlags], env);
    await group.until('the miner serving on chain', async () => {
      const m = await client!.getMetagraph(netuid);
      const uid = m.hotkeys.indexOf(minerHotkey);
      return uid >= 0 && (m.axons[uid]?.port ?? 0) > 0;
    }, 45_000);

    const stateDir = join(dir, 'validator');
    const vArgs = ['validator', '--name', 'owner', '--state-dir', stateDir, '--resync-blocks', '2', ...chainFlags];
    const first = group.subnet('validator', vArgs, env);
    const vFile = join(stateDir, 'validator.json');
    const pFile = join(stateDir, 'pending.json');
    // run until a few delayed tasks were scored (EMA ≥ 0.2 needs ≥ 3 rewards) and more are still pending
    await group.until('scored and pending tasks', async () => {
      const [v, p] = [await readJson<ValidatorFile>(vFile), await readJson<PendingFile>(pFile)];
      return (v?.scores[minerHotkey] ?? 0) >= 0.2 && (p?.tasks.length ?? 0) >= 2;
    }, 60_000, 100);

    await first.kill('SIGKILL');
    const before = (await readJson<ValidatorFile & { secret: string }>(vFile))!;
    const pendingBefore = (await readJson<PendingFile>(pFile))!.tasks.map((t) => t.id);
    expect(pendingBefore.length).toBeGreaterThanOrEqual(2);

    const second = group.subnet('validator (restarted)', vArgs, env);
    await second.waitFor(/"msg":"validator started"/, 45_000);
    const started = logLines(second, 'validator started')[0]!;
    expect(started.step).toBe(before.step);
    expect(started.pending).toBe(pendingBefore.length);
    expect(started.scored).toBe(Object.keys(before.scores).length);

    // every task that was in flight at the kill gets scored exactly once, and the rounds continue
    const after = await group.until('the in-flight tasks scored after the restart', async () => {
      const [v, p] = [await readJson<ValidatorFile & { secret: string }>(vFile), await readJson<PendingFile>(pFile)];
      if (!v || !p) return undefined;
      const stillPending = new Set(p.tasks.map((t) => t.id));
      const done = pendingBefore.every((id) => !stillPending.has(id) && v.scoredTaskIds.includes(id));
      return done && v.step > before.step && v;
    }, 45_000, 100);
    expect(after.secret).toBe(before.secret);
    // reward is always 1: a continued EMA only grows, a reset one would restart from alpha = 0.1
    expect(after.scores[minerHotkey]).toBeGreaterThan(before.scores[minerHotkey]!);
    expect(new Set(after.scoredTaskIds).size).toBe(after.scoredTaskIds.length);
    const weightsAfter = await group.until('weights set by the restarted validator', async () => {
      const v = await readJson<ValidatorFile>(vFile);
      return v !== null && v.lastWeightsBlock > before.lastWeightsBlock && v.lastWeightsBlock;
    }, 30_000);
    const vuid = (await client.getUid(netuid, w.owner!.hotkey.ss58Address))!;
    expect((await client.getMetagraph(netuid)).lastUpdate[vuid]).toBeGreaterThanOrEqual(weightsAfter);
    expect(second.exited()).toBe(false);
  }, 90_000);
});
