import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Lower layers never import higher ones. A concept folder may register its own subcommands in a file
// named `cli.ts` (those are CLI commands themselves); nothing else outside framework/cli imports it.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const framework = join(root, 'framework');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2]!).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
}

const isCliCommandFile = (file: string) => file.startsWith(join(framework, 'cli') + '/') || /\/cli\.ts$/.test(file) || file.includes('/cli/');

describe('layers', () => {
  const files = tsFiles(framework);

  it('finds the framework sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('no concept imports framework/cli except CLI command files', () => {
    const offenders = files
      .filter((f) => !isCliCommandFile(f))
      .flatMap((f) => importsOf(f).filter((target) => target.startsWith(join(framework, 'cli') + '/')).map((t) => `${relative(root, f)} → ${relative(root, t)}`));
    expect(offenders).toEqual([]);
  });

  it('the framework never imports subnets/, templates/, scripts/ or test/', () => {
    const above = ['subnets', 'templates', 'scripts', 'test'].map((d) => join(root, d) + '/');
    const offenders = files.flatMap((f) =>
      importsOf(f).filter((t) => above.some((a) => t.startsWith(a))).map((t) => `${relative(root, f)} → ${relative(root, t)}`),
    );
    expect(offenders).toEqual([]);
  });
});
