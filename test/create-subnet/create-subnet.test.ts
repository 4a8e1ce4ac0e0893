import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess } from '../support/process.ts';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'create-subnet-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_fund: 'false', npm_config_audit: 'false' };
delete childEnv.INIT_CWD; // set under `npm test`: create-subnet resolves paths from it, as from the user's folder
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

  // the generated project's own npm install && npm test run in test/package/pack.test.ts, against the packed
  // subnetkit (a checkout's file: dependency would import its dist/, which a fresh clone has not built)
  it('generates a project that depends on this checkout, with its name and a standalone tsconfig', async () => {
    const gen = await run('node', [join(root, 'bin/create-subnet.js'), 'my-subnet', '--dir', work], root);
    expect(gen.code, gen.out).toBe(0);
    const dir = join(work, 'my-subnet');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    expect(pkg.name).toBe('my-subnet');
    expect(pkg.dependencies.subnetkit).toBe(`file:${root}`);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# My Subnet/);
    expect(JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')).extends).toBeUndefined();
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    // a tarball path is made absolute, since npm resolves it from the project folder
    const tgz = await run('node', [join(root, 'bin/create-subnet.js'), 'from-tgz', '--dir', work, '--framework', 'subnetkit-0.1.0.tgz'], work);
    expect(tgz.code, tgz.out).toBe(0);
    const tgzPkg = JSON.parse(readFileSync(join(work, 'from-tgz', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(tgzPkg.dependencies.subnetkit).toBe(`file:${join(work, 'subnetkit-0.1.0.tgz')}`);
  });
});
