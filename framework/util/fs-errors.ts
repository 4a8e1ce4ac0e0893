import { UserError } from '../errors.ts';

const WHY: Record<string, string> = {
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'has a path component that is a file, not a directory',
  EACCES: 'is not accessible (permission denied)',
  EPERM: 'is not accessible (operation not permitted)',
  EROFS: 'is on a read-only file system',
  ENOSPC: 'cannot be written: no space left on the device',
  ELOOP: 'has a symbolic-link loop',
  ENAMETOOLONG: 'has a name that is too long',
  EMFILE: 'cannot be opened: too many open files',
};

/**
 * A file-system error met at start-up as one clear line (UserError → exit 2, no stack trace): what the file
 * is for, its path and what is wrong with it.
 */
export function fileProblem(e: unknown, what: string, path: string, hint?: string): UserError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why = (code && WHY[code]) ?? `cannot be used: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  return new UserError(`${what} ${path} ${why}`, { hint: hint ?? 'fix the path or its permissions, or choose another', cause: e });
}
