/**
 * Bench suite 'startup': wall time of `subnet --help` as a user starts it, built (dist/, plain Node) vs from
 * source (tsx transpiling at run time, what every `npx subnet` cost before the build). Also: the built CLI
 * loading every command module (an unknown command does that, and it is what --help cost before modules
 * loaded on demand), `subnet wallet --help` (one module), and `node -e 0` as the floor. Runs interleaved,
 * median of N. Builds dist/ first when it is missing or older than the sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../../framework/util/table.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(root, 'bin', 'subnet.js');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 10);

function newest(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
}

interface Variant {
  name: string;
  args: string[];
  env?: Record<string, string>;
}

const variants: Variant[] = [
  { name: 'node -e 0 (floor)', args: ['-e', '0'] },
  { name: 'subnet --help, built', args: [BIN, '--help'] },
  { name: 'subnet --help, source (tsx)', args: [BIN, '--help'], env: { SUBNETKIT_FROM_SOURCE: '1' } },
  { name: 'subnet wallet --help, built', args: [BIN, 'wallet', '--help'] },
  { name: 'built, every command module loaded', args: [BIN, 'no-such-command'] },
];

function once(v: Variant): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, v.args, { env: { ...process.env, ...v.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0 && v.args[1] !== 'no-such-command') throw new Error(`${v.name} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const stamp = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newest(join(root, 'framework'))) {
    process.stdout.write('building dist/ (npm run build) first…\n');
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    if (b.status !== 0) throw new Error('build failed');
  }
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (const v of variants) once(v); // warm the file cache
  for (let i = 0; i < RUNS; i++) for (const v of variants) times.get(v.name)!.push(once(v));
  const source = median(times.get('subnet --help, source (tsx)')!);
  const rows = variants.map((v) => {
    const xs = times.get(v.name)!;
    const m = median(xs);
    return [v.name, m.toFixed(0), Math.min(...xs).toFixed(0), Math.max(...xs).toFixed(0), (m / source).toFixed(2)];
  });
  const headers = ['variant', 'median ms', 'min ms', 'max ms', '× source --help'];
  process.stdout.write(`${renderTable(rows, headers.map((header, i) => ({ header, value: (r: string[]) => r[i]! })))}\n`);
  const built = median(times.get('subnet --help, built')!);
  process.stdout.write(`subnet --help: built ${built.toFixed(0)} ms vs source ${source.toFixed(0)} ms (${(source / built).toFixed(1)}× faster); target ≤ 300 ms; ${RUNS} runs each; load average ${load} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
}
