import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { freePort } from '../e2e/support.ts';

export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
const MISSING = 'redis-server is not installed; the split-validator tests need it (apt-get install redis-server)';

/** Under CI a missing redis-server fails the suite; elsewhere the tests are skipped loudly. */
export function requireRedisServer(what: string): boolean {
  if (hasRedisServer) return true;
  if (process.env.CI === 'true') {
    describe(what, () => {
      it('requires redis-server under CI', () => {
        throw new Error(MISSING);
      });
    });
  } else process.stderr.write(`\n*** SKIPPED ${what}: ${MISSING} ***\n\n`);
  return false;
}

/** A private redis-server on a free port, with an fsync-always AOF so a restart keeps every acknowledged write. */
export class TestRedis {
  private proc: ChildProcess | null = null;
  private constructor(readonly port: number, readonly dir: string) {}

  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort(), await mkdtemp(join(tmpdir(), 'scale-redis-')));
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir], { stdio: 'ignore' });
    const end = Date.now() + 15_000;
    for (;;) {
      const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
      c.on('error', () => {});
      try {
        await c.connect();
        if ((await c.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        c.disconnect();
      }
      if (Date.now() > end) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL, as a crash would. */
  async down(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGKILL');
    });
  }
}
