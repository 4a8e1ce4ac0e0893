// Shared by the bins: import framework module `name` (e.g. 'cli/main') from dist/ when it is built and not
// older than the sources, else from framework/ through tsx. An installed package has no framework/ folder,
// so it always runs dist/; a checkout edited after `npm run build` runs its sources rather than stale JS.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let useBuilt;
function builtIsCurrent() {
  if (useBuilt !== undefined) return useBuilt;
  const stamp = join(root, 'dist', 'cli', 'main.js');
  const sources = join(root, 'framework');
  useBuilt = existsSync(stamp) && (process.env.SUBNETKIT_FROM_SOURCE ?? '') === '' && (!existsSync(sources) || statSync(stamp).mtimeMs >= newestMtime(sources));
  return useBuilt;
}

let tsxRegistered = false;
export async function pickEntry(name) {
  if (builtIsCurrent()) return import(new URL(`../dist/${name}.js`, import.meta.url).href);
  if (!tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  return import(new URL(`../framework/${name}.ts`, import.meta.url).href);
}
