/**
 * The published package, end to end, as a user gets it: `npm pack` (its prepack runs the build) → install the
 * tarball in an empty folder → `npx subnet --help`, `npx create-subnet x` → the generated project's own
 * `npm install` and `npm test`, depending on the packed subnetkit, not on this checkout.
 *
 * Offline: `npm install --offline` resolves everything from npm's cache (filled by `npm ci`), so nothing is
 * downloaded and no dependency may come from anywhere but the registry. The pack runs in a staging copy of the
 * repo, so building dist/ there cannot disturb other tests running bin/subnet.js from this checkout.
 */
import { cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runProcess } from '../support/process.ts';
import { applyReadmeExample } from '../support/readme-example.ts';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'subnetkit-pack-'));
// two installed projects: hundreds of MB to delete, asynchronously so vitest's worker stays responsive
afterAll(() => rm(work, { recursive: true, force: true }), 300_000);

const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };
delete env.INIT_CWD; // set by `npm test`; create-subnet would create the project there
const run = (cmd: string, args: string[], cwd: string) => runProcess(cmd, args, { cwd, env, timeoutMs: 400_000 });
const install = (cwd: string, ...specs: string[]) => run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel', 'warn', ...specs], cwd);

const Lock = z.object({ lockfileVersion: z.literal(3), packages: z.record(z.object({ link: z.boolean().optional() }).passthrough()) });
/**
 * npm ci caches tarballs, not the registry's package documents, so an offline install needs a lockfile: seed
 * one from this repo's (every registry package it pins, at the versions CI tested). npm places what the project
 * needs from it, drops the rest, and fetches nothing that is not in the cache.
 */
function seedLockfile(dir: string, name: string): void {
  const lock = Lock.parse(JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')));
  const packages = Object.fromEntries(Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && !p.link));
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify({ name, lockfileVersion: 3, requires: true, packages: { '': { name }, ...packages } }, null, 2)}\n`);
}
const phase = (what: string, t0: number) => process.stdout.write(`[pack] ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

// what the package's `files` can name, plus the build's inputs; node_modules is shared with the checkout
const STAGED = ['package.json', 'README.md', 'bin', 'framework', 'templates', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json'];
const SKIP = new Set(['node_modules', '.state', 'dist', 'coverage']);

const PackJson = z.array(z.object({ filename: z.string(), size: z.number(), unpackedSize: z.number(), files: z.array(z.object({ path: z.string(), size: z.number() })) }));

describe('npm pack → install → create-subnet → README scorer example → npm test', () => {
  it('the tarball installs offline, its bins run from dist/, and a generated project passes its own tests', async () => {
    const stage = join(work, 'stage');
    for (const entry of STAGED) cpSync(join(root, entry), join(stage, entry), { recursive: true, filter: (src) => !SKIP.has(basename(src)) });
    symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');

    let t0 = performance.now();
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], stage);
    expect(pack.code, pack.out).toBe(0);
    phase('npm pack (with the prepack build)', t0);
    const [info] = PackJson.parse(JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))));
    const paths = info!.files.map((f) => f.path);
    const unpackedMb = info!.unpackedSize / 2 ** 20;
    process.stdout.write(`[pack] ${info!.filename}: ${paths.length} files, ${(info!.size / 2 ** 20).toFixed(2)} MiB packed, ${unpackedMb.toFixed(2)} MiB unpacked\n`);
    for (const needed of ['package.json', 'README.md', 'bin/subnet.js', 'bin/create-subnet.js', 'bin/entry.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/explorer/static/index.html', 'dist/dendrite/sign-worker.mjs', 'templates/package.json', 'templates/src/commodity.ts']) {
      expect(paths, needed).toContain(needed);
    }
    // sources, tests, other subnets, installs, state and key material stay out
    expect(paths.filter((p) => /^(framework|test|subnets|scripts|node_modules)\/|(^|\/)(node_modules|\.state|wallets)\/|\.(env|pem|key)$|(^|\/)\.env/.test(p))).toEqual([]);
    expect(unpackedMb).toBeLessThan(8); // measured ≈ 4 MiB (dist/ with declarations and source maps)

    const tarball = join(work, info!.filename);
    const consumer = join(work, 'consumer');
    cpSync(join(root, 'README.md'), join(consumer, 'README.md')); // any file: an empty folder
    writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
    seedLockfile(consumer, 'consumer');
    t0 = performance.now();
    const added = await install(consumer, tarball);
    expect(added.code, added.out).toBe(0);
    phase('install the tarball', t0);
    const installed = join(consumer, 'node_modules', 'subnetkit');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(existsSync(join(installed, 'framework'))).toBe(false);

    const help = await run('npx', ['--offline', 'subnet', '--help'], consumer);
    expect(help.code, help.out).toBe(0);
    expect(help.stdout).toMatch(/Usage: subnet \[options\] \[command\]/);
    expect(help.stdout).toMatch(/localnet \[options\]/);
    expect(help.out).not.toMatch(/npm warn|ExperimentalWarning/i);
    const walletHelp = await run('npx', ['--offline', 'subnet', 'wallet', 'create', '--help'], consumer);
    expect(walletHelp.code, walletHelp.out).toBe(0);

    const gen = await run('npx', ['--offline', 'create-subnet', 'x', '--framework', tarball], consumer);
    expect(gen.code, gen.out).toBe(0);
    const project = join(consumer, 'x');
    const pkg = z.object({ dependencies: z.record(z.string()) }).parse(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')));
    expect(pkg.dependencies.subnetkit).toBe(`file:${tarball}`);

    seedLockfile(project, 'x');
    t0 = performance.now();
    const deps = await install(project);
    expect(deps.code, deps.out).toBe(0);
    phase('the generated project\'s npm install', t0);
    expect(existsSync(join(project, 'node_modules', 'subnetkit', 'dist', 'index.js'))).toBe(true);
    expect(lstatSync(join(project, 'node_modules', 'subnetkit')).isSymbolicLink()).toBe(false);
    // follow the README's scorer example: the template's tests and the example's own must pass after it
    const exampleTest = applyReadmeExample(project);
    const typecheck = await run('npm', ['run', 'typecheck'], project);
    expect(typecheck.code, typecheck.out).toBe(0);
    t0 = performance.now();
    const test = await run('npm', ['test'], project);
    expect(test.code, test.out).toBe(0);
    phase('the generated project\'s npm test', t0);
    expect(test.out).toMatch(/Tests\s+\d+ passed/);
    expect(test.out).not.toMatch(/failed/);
    expect(test.out).toContain(exampleTest);
    expect(test.out).toMatch(/round 20 rewards:.*steady/);
  }, 900_000);
});
