/**
 * `npm run demo [-- SUBNET]`: with no argument, the template market (scripts/demo-template.ts); with the
 * name of a reference subnet, that subnet's own demo (`subnets/<name>/demo.ts`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const subnetsDir = fileURLToPath(new URL('../subnets/', import.meta.url));
const name = process.argv[2];
if (name === undefined) {
  await import('./demo-template.ts');
} else {
  const demo = `${subnetsDir}${name}/demo.ts`;
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(demo)) {
    const known = existsSync(subnetsDir) ? readdirSync(subnetsDir).filter((d) => existsSync(`${subnetsDir}${d}/demo.ts`)) : [];
    process.stderr.write(`error: no demo named '${name}'\nhint: npm run demo (template market)${known.map((k) => ` | npm run demo -- ${k}`).join('')}\n`);
    process.exit(2);
  }
  await import(pathToFileURL(demo).href);
}
