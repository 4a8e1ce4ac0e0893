/**
 * `npm run bench [-- suite …]`: runs the benchmark suites one after another, each in its own process, and
 * prints each suite's table. Ratios are computed within a run (ours vs a baseline on this machine),
 * because absolute timings on shared hardware are noisy.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Suite {
  name: string;
  description: string;
  load: () => Promise<{ run: () => Promise<void> }>;
}

// Each suite module exports `run()`; register new suites here.
const suites: Suite[] = [
  { name: 'chain', description: 'LocalChain block production and atomic state persistence vs in-memory', load: () => import('./chain.ts') },
  { name: 'consensus', description: 'runEpoch (Number fast path) vs BigInt reference, n = 256 mainnet and n = 4096 synthetic', load: () => import('./consensus.ts') },
  { name: 'simulate', description: 'Yuma simulator: runScenario end to end vs the bare runEpoch calls it makes', load: () => import('./simulate.ts') },
  { name: 'weights', description: 'SDK-exact weight processing and commit hash vs baselines', load: () => import('./weights.ts') },
  { name: 'wallet', description: 'key file load by field (vs secretSeed) and $NACL argon2i in a worker (vs main thread)', load: () => import('./wallet.ts') },
  { name: 'validator', description: 'validator rounds/s with concurrent rounds vs one at a time; seeded RNG; pending store', load: () => import('./validator.ts') },
  { name: 'wire', description: 'axon signed requests/s vs raw sr25519 verify/s and a bare fastify route', load: () => import('./wire.ts') },
  { name: 'subtensor', description: 'SubtensorChain on chopsticks spec 185: metagraph sync (192 neurons) vs per-uid reads, set_weights latency, memory over a long subscription', load: () => import('./subtensor.ts') },
  { name: 'dendrite', description: 'fan-out to 256 loopback miners: overhead beyond the slowest miner vs raw undici', load: () => import('./dendrite.ts') },
  { name: 'startup', description: 'CLI start-up: subnet --help built (dist/) vs from source through tsx, and with every command module loaded', load: () => import('./startup.ts') },
  { name: 'scale', description: 'split validator on BullMQ/Redis: tasks/s with 1, 2, 4 worker processes vs embedded (CPU-heavy scorer); queue overhead per job', load: () => import('./scale.ts') },
  { name: 'ratelimit', description: 'axon per-caller rate limit: CPU per signed request, none vs in-process vs shared in Redis', load: () => import('./ratelimit.ts') },
  { name: 'btauth', description: 'btauth/1: axon route vs raw sr25519 verify and the v10 path; fan-out to 256 peers vs v10 and raw undici', load: () => import('./btauth.ts') },
];

// Reference subnets keep their bench next to their code (`subnets/<dir>/bench.ts`, exporting `run()` and
// `description`); a suite is listed once its file exists.
const subnetSuites: Record<string, string> = { inference: 'text-inference', storage: 'storage', prediction: 'prediction' };
for (const [name, dir] of Object.entries(subnetSuites)) {
  const file = fileURLToPath(new URL(`../../subnets/${dir}/bench.ts`, import.meta.url));
  if (!existsSync(file)) continue;
  const load = () => import(pathToFileURL(file).href) as Promise<{ run: () => Promise<void>; description?: string }>;
  suites.push({ name, description: `subnets/${dir}`, load });
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length > 0) {
  process.stderr.write(`error: unknown bench suite(s): ${unknown.join(', ')}\nhint: available: ${suites.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const selected = suites.filter((s) => wanted.length === 0 || wanted.includes(s.name));
if (selected.length === 1) {
  const suite = selected[0] as Suite;
  process.stdout.write(`\n=== ${suite.name}: ${suite.description} ===\n`);
  const mod = await suite.load();
  await mod.run();
} else {
  // One process per suite: a suite's numbers must not depend on what ran before it (measured: the wire suite
  // after six others in one process lost ~7 points, its hot paths polymorphic from other suites' shapes and
  // its heap larger).
  for (const suite of selected) {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), suite.name], { stdio: 'inherit' });
      child.on('close', resolve);
    });
    if (code !== 0) {
      process.stderr.write(`error: bench suite '${suite.name}' failed (exit ${code})\n`);
      process.exit(1);
    }
  }
}
