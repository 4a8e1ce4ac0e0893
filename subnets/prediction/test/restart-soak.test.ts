import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalnetServer, type LocalnetServer } from '../../../framework/chain/localnet-server.ts';
import { SqlitePendingStore } from '../../../framework/commodity/pending-sqlite.ts';
import { startHarness, type Harness } from '../src/harness.ts';
import { readLedgers } from '../src/report.ts';

/**
 * Restart soak: a finite market (BATCHES × 13 events, one batch a second), a validator in its own
 * process, SIGKILLed part-way and started again on the same state directory. Afterwards every
 * (miner, event) the validator scored is in the persisted ledger exactly once, none that was scored is
 * missing, every event open while a validator was up is there, and nothing is left pending.
 * Default 30 batches (390 events); PREDICTION_SOAK=long runs 120 batches (1,560 events, two kills).
 */
const LONG = process.env.PREDICTION_SOAK === 'long';
const BATCHES = LONG ? 120 : 30;
const KILLS = LONG ? [0.3, 0.65] : [0.3];
const CHILD = fileURLToPath(new URL('./soak-validator.ts', import.meta.url));
const ASSETS = ['BTC', 'ETH', 'TAO', 'SOL', 'DOT', 'ADA', 'XRP', 'LTC', 'AVAX', 'LINK', 'ATOM', 'NEAR'];
const dir = mkdtempSync(join(tmpdir(), 'prediction-soak-'));
const statePath = join(dir, 'validator-0');
const scoreLog = join(dir, 'scored.jsonl');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let h: Harness | null = null;
let server: LocalnetServer | null = null;
let child: ChildProcess | null = null;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await server?.close();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startChild(feed: string, netuid: number): Promise<{ proc: ChildProcess; readyAt: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, `--chain=${server!.url}`, `--feed=${feed}`, '--seed=soak', `--netuid=${netuid}`, `--state=${statePath}`, `--score-log=${scoreLog}`], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`soak validator did not start in 60 s:\n${out}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve({ proc, readyAt: Date.now() });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`soak validator exited early (code ${code}, signal ${signal}):\n${out}`));
    });
  });
}

const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

describe('prediction: restart soak', () => {
  it(`scores every task exactly once across ${KILLS.length} SIGKILL restart(s) (${BATCHES * 13} events)`, async () => {
    h = await startHarness({
      seed: 'soak', stateDir: dir, logger: pino({ level: 'silent' }), validators: 1, skilled: 1, startValidators: false,
      without: ['crowd copier', 'random', 'swarm', 'silent'], // the market opens 10 s from now: time for the validator process to start on a loaded machine
      sim: { assets: ASSETS, eventEveryMs: 1000, maxBatches: BATCHES, t0: Date.now() + 10_000 },
    });
    server = await startLocalnetServer({ chain: h.chain });
    const feed = `${h.simServer.url}/feed.json`;
    const batchTimes = Array.from({ length: BATCHES }, (_, b) => h!.sim.batch(b)[0]!);
    const lastResolve = batchTimes[BATCHES - 1]!.resolveAt;
    const t0 = batchTimes[0]!.openAt;

    // up intervals of the validator: [readyAt, killedAt]
    const up: Array<[number, number]> = [];
    let run = await startChild(feed, h.netuid);
    child = run.proc;
    for (const f of KILLS) {
      const killAt = Math.max(batchTimes[Math.floor(f * BATCHES)]!.openAt, run.readyAt + 3000);
      while (Date.now() < killAt) await sleep(100);
      run.proc.removeAllListeners('exit');
      const gone = exited(run.proc);
      run.proc.kill('SIGKILL');
      await gone;
      up.push([run.readyAt, Date.now()]);
      run = await startChild(feed, h.netuid);
      child = run.proc;
    }

    // drain: past the last resolution, until nothing is pending
    const deadline = Date.now() + 120_000;
    const pendingPath = join(statePath, 'pending.sqlite');
    let pending = -1;
    while (Date.now() < deadline) {
      await sleep(1000);
      if (Date.now() < lastResolve + 3000 || !existsSync(pendingPath)) continue;
      const store = await SqlitePendingStore.open(pendingPath);
      pending = await store.size();
      await store.close();
      if (pending === 0) break;
    }
    up.push([run.readyAt, Date.now()]);
    run.proc.removeAllListeners('exit');
    const gone = exited(run.proc);
    run.proc.kill('SIGTERM');
    await gone;
    expect(pending, 'pending tasks left after the drain').toBe(0);

    // what was scored (the log) vs what the persisted ledger holds
    const lines = readFileSync(scoreLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; task: string; expected: Record<string, Record<string, string | null>> });
    const byTask = new Map<string, number[]>();
    for (const l of lines) byTask.set(l.task, [...(byTask.get(l.task) ?? []), l.pid]);
    const repeats = [...byTask.values()].filter((pids) => pids.length > 1);
    const resolved = (id: string) => h!.sim.resolveNow(id, lastResolve + 10_000)?.status === 'resolved';
    const scoredPairs = new Set<string>();
    for (const l of lines) for (const [hk, entries] of Object.entries(l.expected)) for (const id of Object.keys(entries)) if (resolved(id)) scoredPairs.add(`${hk}/${id}`);
    const ledgers = await readLedgers(statePath);
    const held: string[] = [];
    for (const [hk, st] of ledgers) for (const e of st.window) held.push(`${hk}/${e.id}`);
    const state = JSON.parse(readFileSync(join(statePath, 'validator.json'), 'utf8')) as { scoredTaskIds: string[] };

    // events open while a validator was up (a full commit window inside an up interval) must be there
    const miners = h.people.filter((p) => p.role === 'skilled' || p.role === 'market copier' || p.role === 'constant 0.5');
    const inside = (e: { openAt: number; cutoffAt: number }, [from, to]: [number, number]) => e.openAt >= from + 1500 && e.cutoffAt <= to - 500;
    const all = Array.from({ length: BATCHES }, (_, b) => h!.sim.batch(b)).flat();
    const required = all.filter((e) => resolved(e.id) && up.some((u) => inside(e, u)));
    // the run itself must exercise both sides of every restart (a loaded machine starts processes slowly)
    const perInterval = up.map((u) => all.filter((e) => inside(e, u)).length);
    const missing = miners.flatMap((m) => required.map((e) => `${m.hotkey.ss58Address}/${e.id}`)).filter((k) => !held.includes(k));
    const answered = miners.map((m) => ledgers.get(m.hotkey.ss58Address)?.window.filter((e) => e.skill !== null).length ?? 0);

    console.log(`\nrestart soak: ${BATCHES * 13} events, ${KILLS.length} SIGKILL restart(s); ${byTask.size} reveal tasks scored (${repeats.length} re-scored after a kill ` +
      `hit between scoring and persisting), ${held.length} (miner, event) entries persisted for ${scoredPairs.size} scored pairs, ` +
      `${required.length} events required per miner (${perInterval.join(' + ')} by up interval), ${missing.length} missing; answered per miner ${answered.join(' / ')}; validator up ${up.map(([a, b]) => `${((a - t0) / 1000).toFixed(1)}–${((b - t0) / 1000).toFixed(1)} s`).join(', ')} after the first batch opened`);

    expect(new Set(held).size, 'a (miner, event) counted twice').toBe(held.length);
    expect([...scoredPairs].filter((k) => !held.includes(k)), 'scored but lost').toEqual([]);
    expect(held.filter((k) => !scoredPairs.has(k)), 'in the ledger but never scored').toEqual([]);
    expect(missing, 'events open while the validator was up but never scored').toEqual([]);
    for (const n of perInterval.slice(0, KILLS.length + 1)) expect(n, `events inside each up interval (${perInterval.join(', ')})`).toBeGreaterThan(0);
    // a repeat only happens to a task scored by a process that was killed before persisting it
    for (const pids of repeats) expect(new Set(pids).size).toBe(pids.length);
    expect(repeats.length).toBeLessThanOrEqual(KILLS.length * 2);
    expect(new Set(state.scoredTaskIds).size).toBe(state.scoredTaskIds.length);
    for (const t of byTask.keys()) expect(state.scoredTaskIds).toContain(t);
  }, LONG ? 600_000 : 240_000);
});
