#!/usr/bin/env node
/**
 * Complete package-lock.json with the platform-specific optional packages (e.g. @rollup/rollup-darwin-arm64)
 * that the registry mirror of our build machines does not serve. npm can then not record them, and
 * `npm ci` refuses the lock ("Missing: … from lock file"). The entries added here carry only what npm
 * needs to skip them on a non-matching platform (version, os, cpu, libc, optional) — exactly the fields
 * a full registry would give — so they are never downloaded here. Run after `npm install` changes the lock:
 *   node scripts/lockfile-platforms.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'openharmony', 'netbsd', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  if (!os || !cpu) return null;
  const libcPart = parts.find((p) => /^(gnu|gnueabihf|musl|musleabihf)$/.test(p));
  const libc = libcPart ? (libcPart.startsWith('musl') ? 'musl' : 'glibc') : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const added = [];
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    // npm resolves a dependency next to its dependent first, then at the top level
    const nested = `${key ? `${key}/` : ''}node_modules/${dep}`;
    if (lock.packages[nested] || lock.packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    // npm's own key order (version first, then alphabetical), so a later `npm install` leaves it untouched
    const entry = { ...(pkg.dev ? { dev: true } : {}), optional: true, ...platform };
    lock.packages[`node_modules/${dep}`] = { version, ...Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : 1))) };
    added.push(dep);
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(added.length ? `added ${added.length} platform entries: ${added.join(', ')}\n` : 'lock already complete\n');
