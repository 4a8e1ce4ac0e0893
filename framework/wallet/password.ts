import { readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { UserError } from '../errors.ts';

/** Plain-text password variable for this project (dev/localnet automation). */
export const PASSWORD_ENV = 'SUBNET_WALLET_PASSWORD';
/** SDK v11: the password itself. */
export const BT_PASSWORD_ENV = 'BT_WALLET_PASSWORD';
/** SDK v11: a file whose single line is the password. */
export const BT_PASSWORD_FILE_ENV = 'BT_WALLET_PASSWORD_FILE';
/** Minimum length for a new password (btwallet's `validate_password` minimum). */
export const MIN_PASSWORD_LENGTH = 6;

/**
 * btwallet's per-keyfile variable: `BT_PW_` + the key file path with the path separator and `.` replaced by
 * `_`, uppercased (e.g. `/home/u/.bittensor/wallets/default/coldkey` → `BT_PW__HOME_U__BITTENSOR_WALLETS_DEFAULT_COLDKEY`).
 */
export function btPasswordEnvName(keyfilePath: string): string {
  return `BT_PW_${keyfilePath.split(sep).join('_').replaceAll('.', '_').toUpperCase()}`;
}

// btwallet XORs the password with the variable name and base64-encodes it: obfuscation, not encryption.
function xorWithName(data: Uint8Array, name: string): Uint8Array {
  const key = Buffer.from(name, 'utf8');
  return data.map((b, i) => b ^ key[i % key.length]!);
}

/** The value btwallet stores in `BT_PW_<path>` for a password. */
export function obfuscatePassword(envName: string, password: string): string {
  return Buffer.from(xorWithName(Buffer.from(password, 'utf8'), envName)).toString('base64');
}

/** Recover a password from a `BT_PW_<path>` value. */
export function deobfuscatePassword(envName: string, value: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value.trim())) throw new UserError(`${envName} is not valid base64`);
  return Buffer.from(xorWithName(Buffer.from(value.trim(), 'base64'), envName)).toString('utf8');
}

/** The password in BT_WALLET_PASSWORD_FILE's file, surrounding whitespace (the trailing newline) trimmed as the SDK does. */
export function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new UserError(`cannot read ${BT_PASSWORD_FILE_ENV} ${path}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  const password = text.trim();
  if (password === '') throw new UserError(`${BT_PASSWORD_FILE_ENV} ${path} is empty`);
  return password;
}

/**
 * Password for a key file from the environment, first match wins (the SDK v11 order, then ours):
 * BT_WALLET_PASSWORD > `BT_PW_<path>` (btwallet) > BT_WALLET_PASSWORD_FILE > SUBNET_WALLET_PASSWORD.
 * `paths` are the spellings of the key file path to try for `BT_PW_<path>`.
 */
export function passwordFromEnv(paths: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const bt = env[BT_PASSWORD_ENV];
  if (bt !== undefined && bt !== '') return bt;
  for (const p of paths) {
    const name = btPasswordEnvName(p);
    const value = env[name];
    if (value !== undefined && value !== '') return deobfuscatePassword(name, value);
  }
  const file = env[BT_PASSWORD_FILE_ENV];
  if (file !== undefined && file !== '') return readPasswordFile(file);
  const plain = env[PASSWORD_ENV];
  return plain !== undefined && plain !== '' ? plain : undefined;
}

export function checkNewPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UserError(`password too short (minimum ${MIN_PASSWORD_LENGTH} characters)`);
  }
  return password;
}

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Read one line from the terminal without echo. Ctrl-C aborts with a UserError. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new UserError('cannot prompt: stdin is not a terminal'));
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err); else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new UserError('aborted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Ask for a new password twice (no echo) and check it. */
export async function promptNewPassword(what: string): Promise<string> {
  const first = checkNewPassword(await promptHidden(`Password for ${what}: `));
  const again = await promptHidden('Retype password: ');
  if (first !== again) throw new UserError('passwords do not match');
  return first;
}
