import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSubnet, type ProcessResult } from '../support/process.ts';
import { btPasswordEnvName, cryptoReady, obfuscatePassword, regenColdkeyPub, regenHotkey, resolveWalletRef, walletPaths } from '../../framework/wallet/index.ts';

const SLOW = 240_000;

type Run = ProcessResult;

let root: string;
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'wallet-cli-')); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  // stdin is not a TTY here, so the CLI can never prompt: every secret must come from flags/env.
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: root, BT_WALLET_PATH: root };
  return runSubnet(['wallet', ...args], { env: { ...base, ...env }, timeoutMs: SLOW });
}

function expectUserError(r: Run, re: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(re);
  expect(lines.length).toBeLessThanOrEqual(2); // error + optional hint
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('subnet wallet CLI', () => {
  it('creates, shows and lists an unencrypted dev wallet', async () => {
    const created = await cli(['create', '--name', 'dev', '--no-password', '--json']);
    expect(created.code).toBe(0);
    const out = JSON.parse(created.stdout) as { coldkey: { ss58: string; mnemonic: string }; hotkey: { ss58: string } };
    expect(out.coldkey.mnemonic.split(' ')).toHaveLength(12);
    const shown = await cli(['show', '--name', 'dev', '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'dev', coldkeyPub: out.coldkey.ss58, coldkeyEncryption: 'none', hotkeys: [{ name: 'default', ss58: out.hotkey.ss58 }] });
    expect(shown.stdout).not.toContain(out.coldkey.mnemonic.split(' ')[0] + ' ');
    const listed = await cli(['list', '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { wallets: Array<{ name: string }> }).wallets.map((w) => w.name)).toEqual(['dev']);
  }, SLOW);

  it('fails with one line and exit 2 on user mistakes', async () => {
    expectUserError(await cli(['show', '--name', 'missing']), /wallet 'missing' not found/);
    expectUserError(await cli(['create', '--name', 'enc']), /no coldkey password/);
    expectUserError(await cli(['regen-hotkey', '--name', 'dev2', '--mnemonic', 'foo', 'bar', 'baz']), /invalid mnemonic/);
    const badWords = await cli(['create', '--name', 'w', '--words', '13', '--no-password']);
    expect(badWords.code).toBe(2);
    expect(badWords.stderr).toMatch(/'13' is invalid/);
  }, SLOW);

  it('checks a $NACL coldkey with btwallet\'s BT_PW_ variable and rejects a wrong password', async () => {
    // The coldkey is the fixture made without our code (scripts/vectors/nacl-vector.ts); pub file and
    // hotkey are written through the library to spare CLI start-ups.
    const vector = JSON.parse(await readFile(new URL('./fixtures/nacl-vector.json', import.meta.url), 'utf8')) as { password: string; plaintext: string; blobBase64: string };
    const { ss58Address } = JSON.parse(vector.plaintext) as { ss58Address: string };
    const ref = resolveWalletRef({ path: root, name: 'vault' }, {});
    await cryptoReady();
    await regenColdkeyPub(ref, ss58Address);
    const hotkey = await regenHotkey(ref, { seed: `0x${'07'.repeat(32)}` });
    await writeFile(walletPaths(ref).coldkey, Buffer.from(vector.blobBase64, 'base64'), { mode: 0o600 });

    const envName = btPasswordEnvName(walletPaths(ref).coldkey);
    const ok = await cli(['check', '--name', 'vault', '--json'], { [envName]: obfuscatePassword(envName, vector.password) });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ name: 'vault', coldkey: ss58Address, hotkey: { name: 'default', ss58: hotkey.ss58Address } });

    expectUserError(await cli(['check', '--name', 'vault'], { SUBNET_WALLET_PASSWORD: 'not-the-password' }), /wrong password/);
  }, SLOW);
});
