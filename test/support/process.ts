import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `subnet` CLI entry point, for tests that run it as a real process. */
export const SUBNET_BIN = fileURLToPath(new URL('../../bin/subnet.js', import.meta.url));

export interface ProcessResult {
  /** Exit code; null when killed (e.g. by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout followed by stderr. */
  out: string;
}

export interface RunOptions {
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the child's stdin, which is then closed (a pipe, never a TTY). */
  stdin?: string;
  /** SIGKILL the child after this long (default 300 s). */
  timeoutMs?: number;
}

/**
 * Run a command to completion and collect its output. Asynchronous on purpose: a blocked worker event
 * loop (spawnSync) makes vitest's own RPC time out on long runs.
 */
export function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, out: stdout + stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Run `subnet …` (bin/subnet.js) with this Node. */
export function runSubnet(args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [SUBNET_BIN, ...args], opts);
}
