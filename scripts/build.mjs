#!/usr/bin/env node
// `npm run build`: framework/ → dist/ (JavaScript, .d.ts, source maps) with tsc -p tsconfig.build.json, plus
// the non-TypeScript files the modules load at run time (explorer/static, dendrite/sign-worker.mjs, …).
// dist/ is rebuilt from scratch, so a stale file from a deleted module cannot ship.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'framework');
const out = join(root, 'dist');

rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(out, { recursive: true, force: true }); // a half-written dist/ would be picked up by bin/subnet.js
  process.exit(r.status ?? 1);
}

let assets = 0;
const copyAssets = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) copyAssets(p);
    else if (!e.name.endsWith('.ts')) {
      const to = join(out, relative(src, p));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(p, to);
      assets++;
    }
  }
};
copyAssets(src);
process.stdout.write(`built ${relative(process.cwd(), out) || out}/ (tsc + ${assets} asset files)\n`);
