import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalnetClient, RAO_PER_TAO, type SubnetHyperparameters } from '../../framework/chain/index.ts';
import { createWallet, resolveWalletRef, type Keypair } from '../../framework/wallet/index.ts';

/** Real-process helpers for the end-to-end tests: spawn, capture output, poll, always clean up. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SUBNET_BIN = join(ROOT, 'bin', 'subnet.js');
export const TEMPLATE_MINER = join(ROOT, 'templates', 'src', 'miner.ts');
/** Fast blocks: short epochs without starving a loaded 2-core machine. */
export const BLOCK_TIME_MS = 150;

const MAX_OUTPUT = 256 * 1024;

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
  exited(): boolean;
  /** Resolves with the first match of `re` in the output (waits for it). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Signal the process and wait until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Every child process a test starts, so afterEach can kill them all and failures can show their output. */
export class ProcessGroup {
  private readonly procs: Proc[] = [];

  spawn(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
    });
    let out = '';
    const listeners = new Set<() => void>();
    const append = (d: Buffer) => {
      out += d.toString();
      if (out.length > MAX_OUTPUT) out = out.slice(out.length - MAX_OUTPUT / 2);
      for (const l of listeners) l();
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    let gone = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => {
      gone = true;
      for (const l of listeners) l();
      resolve();
    }));
    const proc: Proc = {
      name,
      child,
      output: () => out,
      exited: () => gone,
      waitFor: (re, timeoutMs = 30_000) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const m = re.exec(out);
            if (m) return finish(() => resolve(m));
            if (gone) return finish(() => reject(new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before printing ${re}\n${this.tails()}`)));
          };
          const timer = setTimeout(() => finish(() => reject(new Error(`${name}: no ${re} within ${timeoutMs} ms\n${this.tails()}`))), timeoutMs);
          const finish = (f: () => void) => {
            clearTimeout(timer);
            listeners.delete(check);
            f();
          };
          listeners.add(check);
          check();
        }),
      kill: async (signal = 'SIGKILL') => {
        if (gone) return;
        child.kill(signal);
        await exit;
      },
    };
    this.procs.push(proc);
    return proc;
  }

  /** `node bin/subnet.js …` as a long-running process. */
  subnet(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    return this.spawn(name, [SUBNET_BIN, ...args], env);
  }

  /** Run a one-shot `subnet …` command; throws with its output unless it exits 0. */
  async cli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<string> {
    const p = this.subnet(`subnet ${args.slice(0, 2).join(' ')}`, args, env);
    const timer = setTimeout(() => void p.kill(), timeoutMs);
    await new Promise<void>((r) => (p.exited() ? r() : p.child.once('exit', () => r())));
    clearTimeout(timer);
    if (p.child.exitCode !== 0) throw new Error(`subnet ${args.join(' ')} exited ${p.child.exitCode ?? p.child.signalCode}:\n${p.output()}`);
    return p.output();
  }

  /** Poll `fn` until it returns a value that is not undefined/false; on timeout, throw with every process' output tail. */
  async until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 200): Promise<T> {
    const end = Date.now() + timeoutMs;
    let lastError: unknown = null;
    for (;;) {
      try {
        const v = await fn();
        if (v !== undefined && v !== false) return v as T;
      } catch (e) {
        lastError = e; // e.g. the chain is restarting: keep polling
      }
      if (Date.now() > end) {
        const why = lastError ? ` (last error: ${(lastError as Error).message})` : '';
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}\n${this.tails()}`);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  tails(lines = 15): string {
    return this.procs
      .filter((p) => !p.name.startsWith('subnet ') || p.child.exitCode !== 0)
      .map((p) => `--- ${p.name} (${p.exited() ? `exited ${p.child.exitCode ?? p.child.signalCode}` : 'running'}) ---\n${p.output().trimEnd().split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** Kills every child; E2E_DUMP=1 prints their output first (to read a passing run's logs). */
  async killAll(): Promise<void> {
    if (process.env.E2E_DUMP) console.error(this.tails(40));
    await Promise.all(this.procs.splice(0).map((p) => p.kill('SIGKILL')));
  }
}

/** A free TCP port on 127.0.0.1 (bind 0, read, release): for a server that must come back on the same port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Localnet {
  proc: Proc;
  url: string;
  port: number;
}

/** Start `subnet localnet` and wait for the URL it prints. */
export async function startLocalnet(group: ProcessGroup, opts: { port: number; state: string; fresh?: boolean; name?: string }): Promise<Localnet> {
  const args = ['localnet', '--host', '127.0.0.1', '--port', String(opts.port), '--block-time', String(BLOCK_TIME_MS), '--state', opts.state];
  if (opts.fresh) args.push('--fresh');
  const proc = group.subnet(opts.name ?? 'localnet', args);
  const m = await proc.waitFor(/rpc:\s+(http:\/\/127\.0\.0\.1:(\d+))/, 45_000);
  return { proc, url: m[1]!, port: Number(m[2]) };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `subnetkit-e2e-${prefix}-`));
}

/** Unencrypted wallets (coldkey + default hotkey) under `root`, created in-process (fast). */
export async function createWallets(root: string, names: string[]): Promise<Record<string, { coldkey: Keypair; hotkey: Keypair }>> {
  const out: Record<string, { coldkey: Keypair; hotkey: Keypair }> = {};
  for (const name of names) out[name] = await createWallet(resolveWalletRef({ path: root, name }, {}), { password: null });
  return out;
}

export async function connect(url: string): Promise<LocalnetClient> {
  return LocalnetClient.connect(url, { timeoutMs: 5_000 });
}

/** Parsed validator.json, or null while it does not exist yet. */
export async function readJson<T = Record<string, unknown>>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export interface ValidatorFile {
  step: number;
  hotkeys: string[];
  scores: Record<string, number>;
  minerState: Record<string, unknown>;
  scoredTaskIds: string[];
  lastWeightsBlock: number;
}

export interface PendingFile {
  tasks: Array<{ id: string; round: number }>;
}

/** pino JSON lines from a process' stdout whose `msg` matches. */
export function logLines(p: Proc, msg: string): Array<Record<string, unknown>> {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return null;
      }
    })
    .filter((x): x is Record<string, unknown> => x !== null && x.msg === msg);
}

/** Owner setup through the localnet client (fast; the CLI path is covered by subnet.test.ts). */
export async function createSubnet(client: LocalnetClient, owner: { coldkey: Keypair; hotkey: Keypair }, hp: Partial<SubnetHyperparameters>): Promise<number> {
  await client.faucet(owner.coldkey.ss58Address, 5_000n * RAO_PER_TAO);
  const netuid = await client.registerNetwork(owner.coldkey, owner.hotkey.ss58Address, hp);
  await client.startCall(owner.coldkey, netuid);
  if ((await client.getUid(netuid, owner.hotkey.ss58Address)) === null) await client.burnedRegister(owner.coldkey, netuid, owner.hotkey.ss58Address);
  await client.addStake(owner.coldkey, owner.hotkey.ss58Address, netuid, 100n * RAO_PER_TAO);
  return netuid;
}
