import { CommanderError } from 'commander';
import { z } from 'zod';

/** Shared flag handling for the entry points: flags > env > defaults, validated with zod. */
export const commonFlags = z.object({
  chain: z.string().min(1, 'must be "local" or a ws(s):// / http(s):// URL'),
  netuid: z.coerce.number().int().min(0).max(65535),
  walletPath: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  hotkey: z.string().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Pick the flag value, else the env value, else undefined (zod applies defaults). */
export function pick(flag: unknown, env: string | undefined): unknown {
  if (flag !== undefined) return flag;
  return env === undefined || env === '' ? undefined : env;
}

export function describeError(e: unknown): { message: string; hint?: string; user: boolean } {
  if (e instanceof z.ZodError) {
    const i = e.issues[0];
    return { message: `invalid flag ${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`, user: true };
  }
  if (e instanceof Error && e.name === 'UserError') return { message: e.message, hint: (e as Error & { hint?: string }).hint, user: true };
  return { message: e instanceof Error ? (e.stack ?? e.message) : String(e), user: false };
}

/** Print one line for a user mistake (exit 2); a stack for a bug (exit 1). */
export function reportAndExit(e: unknown): never {
  // commander already printed help or its own one-line error
  if (e instanceof CommanderError) process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
  const d = describeError(e);
  process.stderr.write(d.user ? `error: ${d.message}\n` : `internal error: ${d.message}\n`);
  if (d.hint) process.stderr.write(`hint: ${d.hint}\n`);
  process.exit(d.user ? 2 : 1);
}

/** On SIGINT/SIGTERM, run `close()` once and exit 0 (or report the error). */
export function closeOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    close().then(() => process.exit(0), reportAndExit);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
