import type { ZodError } from 'zod';

/**
 * A mistake by the user (bad flag, missing file, wrong password). The CLI prints its message as one
 * line, plus the optional hint, and exits with `exitCode` (2 by default) — never a stack trace.
 */
export class UserError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? 2;
    this.hint = options.hint;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Format a zod error as one line naming the offending field. */
export function describeZodError(err: ZodError, source = 'input'): string {
  const issue = err.issues[0];
  if (!issue) return `invalid ${source}`;
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  return `invalid ${source}: ${path}: ${issue.message}`;
}
