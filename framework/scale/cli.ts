import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Chain } from '../chain/types.ts';
import type { Commodity } from '../commodity/define.ts';
import { UserError } from '../errors.ts';
import { serveMetrics, type MetricsServer } from '../metrics/index.ts';
import { combinedRegistry, mechanismStatePath } from '../validator/mechanisms.ts';
import type { Keypair } from '../wallet/keypair.ts';
import { startCoordinator } from './coordinator.ts';
import { startScaleWorker } from './worker.ts';

export interface SplitValidatorArgs {
  role: 'coordinator' | 'worker';
  workers: number;
  redisUrl: string;
  chain: Chain;
  netuid: number;
  hotkey: Keypair;
  /** The commodity, or one per incentive mechanism (`--mechanism 0=a.ts --mechanism 1=b.ts`): a coordinator / worker each, in this process. */
  commodity: Commodity | ReadonlyMap<number, Commodity>;
  statePath: string;
  alpha: number;
  resyncEveryBlocks: number;
  roundIntervalMs: number;
  disableWeights: boolean;
  weightsSemantics: 'v10' | 'v11';
  maxQueued: number;
  leaseMs: number;
  jobTimeoutMs?: number;
  jobLockMs: number;
  /** How long scored delayed-task ids are remembered (coordinator; default 24 h). */
  scoredRetentionMs?: number;
  workerConcurrency: number;
  metricsPort?: number;
  metricsHost: string;
  /** IPs / CIDRs allowed to read `/metrics` (others get 403); default everyone who reaches the port. */
  metricsAllow?: readonly string[];
  log: Logger;
}

/** `--workers N`: the same command line, as N worker processes; restarted when one dies, stopped with us. */
function forkWorkers(n: number, log: Logger): { stop(): Promise<void> } {
  const argv = process.argv.slice(2);
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers' || a === '--role' || a === '--metrics-port') i++;
    else if (!/^--(workers|role|metrics-port)=/.test(a)) args.push(a);
  }
  args.push('--role', 'worker');
  const children = new Set<ChildProcess>();
  let stopping = false;
  const start = (slot: number) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      log.warn({ slot, code, signal }, 'worker process exited; starting another');
      setTimeout(() => !stopping && start(slot), 1000);
    });
  };
  for (let i = 0; i < n; i++) start(i);
  log.info({ workers: n }, 'forked local worker processes');
  return {
    stop: async () => {
      stopping = true;
      await Promise.all([...children].map((c) => new Promise<void>((r) => {
        c.once('exit', () => r());
        c.kill('SIGTERM');
        setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
      })));
    },
  };
}

/** Run one process of the split validator; returns its stop function (for the shutdown handler). */
export async function runSplitValidator(a: SplitValidatorArgs): Promise<() => Promise<void>> {
  if (a.role === 'worker' && a.workers > 0) throw new UserError('--workers forks workers from a coordinator; drop it with --role worker');
  // one coordinator or worker per mechanism; each has its own Redis keys (netuid, mechid, hotkey), lease and state
  // directory (as the embedded --mechanism validator lays it out), and its metrics carry a mechid label
  const parts: ReadonlyArray<readonly [number | undefined, Commodity]> = a.commodity instanceof Map ? [...a.commodity.entries()].sort((x, y) => x[0] - y[0]) : [[undefined, a.commodity as Commodity] as const];
  const registries: Registry[] = [];
  const stops: Array<() => Promise<void>> = [];
  const stopAll = () => Promise.all(stops.map((s) => s())).then(() => undefined);
  try {
    for (const [mechid, commodity] of parts) {
      const registry = new Registry();
      if (mechid !== undefined) registry.setDefaultLabels({ mechid: String(mechid) });
      registries.push(registry);
      const base = { chain: a.chain, netuid: a.netuid, mechid, hotkey: a.hotkey, commodity, redisUrl: a.redisUrl };
      if (a.role === 'worker') {
        const h = await startScaleWorker({
          ...base, concurrency: a.workerConcurrency, jobTimeoutMs: a.jobTimeoutMs, lockMs: a.jobLockMs, resyncEveryBlocks: a.resyncEveryBlocks, logger: a.log, metricsRegistry: registry,
        });
        stops.push(() => h.stop());
      } else {
        const h = await startCoordinator({
          ...base,
          options: {
            alpha: a.alpha, resyncEveryBlocks: a.resyncEveryBlocks, roundIntervalMs: a.roundIntervalMs, disableWeights: a.disableWeights, weightsSemantics: a.weightsSemantics,
            maxQueued: a.maxQueued, leaseMs: a.leaseMs, scoredRetentionMs: a.scoredRetentionMs, statePath: mechid === undefined ? a.statePath : mechanismStatePath(a.statePath, mechid), logger: a.log, metricsRegistry: registry,
          },
        });
        stops.push(() => h.stop());
      }
    }
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
  // a forked worker exits with its coordinator (the IPC channel closes when the parent dies, even by SIGKILL)
  if (a.role === 'worker' && process.send) process.once('disconnect', () => void stopAll().finally(() => process.exit(0)));
  const forked = a.role === 'coordinator' && a.workers > 0 ? forkWorkers(a.workers, a.log) : null;
  let metrics: MetricsServer | null = null;
  if (a.metricsPort !== undefined) {
    metrics = await serveMetrics(registries.length === 1 ? registries[0]! : combinedRegistry(registries), { port: a.metricsPort, host: a.metricsHost, allow: a.metricsAllow });
    a.log.info({ port: metrics.port }, 'metrics on /metrics');
  }
  return async () => {
    await metrics?.close();
    await forked?.stop();
    await stopAll();
  };
}
