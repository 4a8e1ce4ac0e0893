import { existsSync, readdirSync, statSync } from 'node:fs';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { runCli } from './program.ts';

/** The framework root (this package) and its template. */
export const FRAMEWORK_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATE_DIR = join(FRAMEWORK_ROOT, 'templates');
/** A source checkout has framework/ beside dist/; an installed package ships only dist/. */
const IS_CHECKOUT = existsSync(join(FRAMEWORK_ROOT, 'framework'));
const TEMPLATE_PACKAGE = 'subnet-template';
const TEXT_FILES = /\.(ts|json|md|txt|ya?ml)$/;
const SKIP = new Set(['node_modules', '.state', 'dist', 'coverage']);

const projectName = z
  .string()
  .min(1, 'a project name is required')
  .max(214, 'is longer than npm allows (214)')
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a valid npm package name: lower case letters, digits, "-", "_" or "." (e.g. my-subnet)');

/** "my-subnet" → "My Subnet" for titles. */
function titleOf(name: string): string {
  return name.split(/[-_.]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ');
}

/** A standalone tsconfig: the template's own extends the framework's, which a generated project doesn't have. */
const STANDALONE_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], strict: true,
    esModuleInterop: true, skipLibCheck: true, resolveJsonModule: true, allowImportingTsExtensions: true, noEmit: true, types: ['node'],
  },
  include: ['src', 'test'],
};

export interface CreateSubnetOptions {
  /** Directory the project folder is created in (default: cwd). */
  parentDir?: string;
  /** The `subnetkit` dependency spec (default: `file:<this checkout>`, or `^<version>` when installed from npm). */
  frameworkSpec?: string;
}

/** Copy templates/ into `<parentDir>/<name>` with names substituted. Returns the project directory. */
export async function createSubnetProject(name: string, opts: CreateSubnetOptions = {}): Promise<string> {
  const parsed = projectName.safeParse(name);
  if (!parsed.success) throw new UserError(`invalid project name '${name}': ${parsed.error.issues[0]!.message}`);
  // under `npm run`, cwd is the package root; INIT_CWD is where the user ran npm
  const dir = resolve(opts.parentDir ?? process.env.INIT_CWD ?? process.cwd(), name);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new UserError(`${dir} already exists and is not empty`, { hint: 'choose another name or remove the folder' });
  }
  await cp(TEMPLATE_DIR, dir, { recursive: true, filter: (src) => !SKIP.has(basename(src)) });
  const title = titleOf(name);
  for (const file of await listFiles(dir)) {
    if (!TEXT_FILES.test(file)) continue;
    const text = await readFile(file, 'utf8');
    const next = text.replaceAll(TEMPLATE_PACKAGE, name).replaceAll('Puzzle subnet (subnetkit template)', `${title} (a subnetkit subnet)`);
    if (next !== text) await writeFile(file, next);
  }
  const pkgPath = join(dir, 'package.json');
  const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { name: string; dependencies?: Record<string, string> };
  pkg.name = name;
  pkg.dependencies = { ...pkg.dependencies, subnetkit: opts.frameworkSpec ? tarballSpec(opts.frameworkSpec) : await defaultFrameworkSpec() };
  await writeFile(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFile(join(dir, 'tsconfig.json'), `${JSON.stringify(STANDALONE_TSCONFIG, null, 2)}\n`);
  await writeFile(join(dir, '.gitignore'), 'node_modules/\n.state/\n');
  await writeFile(join(dir, '.npmrc'), 'fund=false\naudit=false\n');
  return dir;
}

/** A tarball path (e.g. from `npm pack`) is relative to where the user ran us; the project needs it absolute. */
function tarballSpec(spec: string): string {
  const path = spec.replace(/^file:/, '');
  if (!/\.(tgz|tar\.gz)$/.test(path) || /^[a-z+]+:\/\//i.test(path)) return spec;
  return `file:${resolve(process.env.INIT_CWD ?? process.cwd(), path)}`;
}

async function defaultFrameworkSpec(): Promise<string> {
  if (IS_CHECKOUT) return `file:${FRAMEWORK_ROOT.replace(/\/$/, '')}`;
  const { version } = z.object({ version: z.string() }).parse(JSON.parse(await readFile(join(FRAMEWORK_ROOT, 'package.json'), 'utf8')));
  return `^${version}`;
}

/** A project depending on a checkout imports its dist/ (package.json exports): say so when it is not built. */
function buildNote(spec: string): string {
  if (!spec.startsWith('file:') || existsSync(join(spec.slice(5), 'dist', 'index.js'))) return '';
  return `\nnote: ${spec.slice(5)} has no dist/ yet; run \`npm run build\` there first (the project imports the built subnetkit).\n`;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

export function createSubnetProgram(): Command {
  return new Command('create-subnet')
    .description('create a new subnet project from the subnetkit template')
    .argument('<name>', 'project folder and npm package name, e.g. my-subnet')
    .option('--dir <parent>', 'create the project inside this folder (default: current directory)')
    .option('--framework <spec>', 'dependency spec for subnetkit, e.g. ./subnetkit-0.1.0.tgz (default: ^<version> when installed, file:<checkout> in a checkout)')
    .action(async (name: string, flags: { dir?: string; framework?: string }) => {
      const dir = await createSubnetProject(name, { parentDir: flags.dir, frameworkSpec: flags.framework });
      const rel = relative(process.env.INIT_CWD ?? process.cwd(), dir) || '.';
      const spec = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.subnetkit ?? '';
      process.stdout.write(`created ${dir}\n${buildNote(spec)}\nnext:\n  cd ${rel}\n  npm install\n  npm test\n\nthen see README.md to run a miner and a validator on localnet.\n`);
    });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runCli(createSubnetProgram(), process.argv);
}
