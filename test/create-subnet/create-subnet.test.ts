import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess } from '../support/process.ts';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'create-subnet-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const childEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_fund: 'false', npm_config_audit: 'false' };
const run = (cmd: string, args: string[], cwd: string) => runProcess(cmd, args, { cwd, env: childEnv });

describe('create-subnet', () => {
  it('rejects a bad name and a non-empty folder with one line and exit 2', async () => {
    const bad = await run('node', [join(root, 'bin/create-subnet.js'), 'Bad Name', '--dir', work], root);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/^error: invalid project name 'Bad Name'/);
    expect(bad.out).not.toMatch(/\n\s+at /);
    mkdirSync(join(work, 'taken'));
    writeFileSync(join(work, 'taken', 'x'), 'x');
    const taken = await run('node', [join(root, 'bin/create-subnet.js'), 'taken', '--dir', work], root);
    expect(taken.code).toBe(2);
    expect(taken.out).toMatch(/already exists and is not empty/);
  });

  it('generates a project whose own npm install && npm test pass', async () => {
    const gen = await run('node', [join(root, 'bin/create-subnet.js'), 'my-subnet', '--dir', work], root);
    expect(gen.code, gen.out).toBe(0);
    const dir = join(work, 'my-subnet');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    expect(pkg.name).toBe('my-subnet');
    expect(pkg.dependencies.subnetkit).toBe(`file:${root}`);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# My Subnet/);
    expect(JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')).extends).toBeUndefined();

    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir);
    expect(install.code, install.out).toBe(0);
    const test = await run('npm', ['test'], dir);
    expect(test.code, test.out).toBe(0);
    expect(test.out).toMatch(/Tests\s+\d+ passed/);
  }, 600_000);
});
