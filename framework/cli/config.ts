import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { NESTED_CONFIG_KEYS } from './btcli-flags.ts';

/**
 * Layered configuration for long-running commands: CLI flags > environment variables > config file >
 * schema defaults. Every layer passes through the same zod schema, and an error names the field and
 * the layer it came from, so `SUBNET_NETUID=abc` fails as clearly as `--netuid abc`.
 */
export interface ConfigSources<T extends z.ZodRawShape> {
  schema: z.ZodObject<T>;
  /** Parsed commander options (undefined = not given). */
  flags: Record<string, unknown>;
  /** Map of option key → environment variable name. */
  env: Partial<Record<keyof T & string, string>>;
  /** Path to a JSON or YAML config file (from --config or SUBNET_CONFIG), if any. */
  configPath?: string;
  processEnv?: NodeJS.ProcessEnv;
}

export function loadConfigFile(path: string): Record<string, unknown> {
  const full = resolve(path);
  if (!existsSync(full)) throw new UserError(`config file not found: ${full}`, { hint: 'pass --config PATH or unset SUBNET_CONFIG' });
  const text = readFileSync(full, 'utf8');
  let data: unknown;
  try {
    data = extname(full) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const where = (e as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const line = where ? text.split('\n')[where.line - 1]?.trim() : undefined;
    throw new UserError(`config file ${full} is not valid ${extname(full) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`, {
      hint: line !== undefined ? `line ${where!.line}: ${line}` : 'check the file, or point --config / SUBNET_CONFIG elsewhere',
    });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new UserError(`config file ${full} must contain an object of options`);
  return flattenNestedKeys(data as Record<string, unknown>, full);
}

/** btcli-style sections (`wallet: {name}`, `subtensor: {network}`) become our flat option names. */
function flattenNestedKeys(data: Record<string, unknown>, file: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const section = NESTED_CONFIG_KEYS[key];
    if (!section || value === null || typeof value !== 'object' || Array.isArray(value)) {
      out[key] = value;
      continue;
    }
    for (const [sub, v] of Object.entries(value as Record<string, unknown>)) {
      const flat = section[sub];
      if (!flat) throw new UserError(`config file ${file}: unknown option '${key}.${sub}'`, { hint: `known in '${key}': ${Object.keys(section).join(', ')}` });
      out[flat] = v;
    }
  }
  return out;
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function resolveConfig<T extends z.ZodRawShape>(src: ConfigSources<T>): z.infer<z.ZodObject<T>> {
  const env = src.processEnv ?? process.env;
  const shape = src.schema.shape;
  const file = src.configPath ? loadConfigFile(src.configPath) : {};
  const unknownKeys = Object.keys(file).filter((k) => !(k in shape));
  if (unknownKeys.length > 0) {
    throw new UserError(`config file ${src.configPath}: unknown option '${unknownKeys[0]}'`, {
      hint: `known options: ${Object.keys(shape).join(', ')}`,
    });
  }
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const envName = src.env[key as keyof T & string];
    if (src.flags[key] !== undefined) {
      merged[key] = src.flags[key];
      origin[key] = flagName(key);
    } else if (envName && env[envName] !== undefined && env[envName] !== '') {
      merged[key] = env[envName];
      origin[key] = `$${envName}`;
    } else if (key in file) {
      merged[key] = file[key];
      origin[key] = `${key} in ${src.configPath}`;
    }
  }
  const parsed = src.schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const where = origin[key] ?? flagName(key);
    if (merged[key] === null && where.includes(' in ')) {
      throw new UserError(`${where} has no value`, { hint: `write '${key}: <value>' (a YAML key ending with ':' and nothing after it is null)` });
    }
    throw new UserError(`invalid ${where}: ${issue.message}`, { hint: `see --help for ${flagName(key)}` });
  }
  return parsed.data;
}

/** zod helpers for values that arrive as strings from flags and env. */
export const cliInt = (min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number({ invalid_type_error: 'expected an integer' }).int('expected an integer').min(min).max(max);
export const cliBool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes')]);
export const cliPort = cliInt(0, 65535);
export const cliTao = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const s = String(v).trim();
    if (!/^\d+(\.\d{1,9})?$/.test(s)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected an amount in TAO like 10 or 0.5, got '${s}'` });
      return z.NEVER;
    }
    const [whole, frac = ''] = s.split('.');
    const rao = BigInt(whole!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
    if (rao > U64_MAX) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${s} TAO is more than a balance can hold (u64 RAO: at most ${formatTao(U64_MAX)} TAO)` });
      return z.NEVER;
    }
    return rao;
  });

/** Balances and stakes are u64 RAO on subtensor. */
export const U64_MAX = 2n ** 64n - 1n;

/** Format RAO as TAO with up to 9 decimals, trailing zeros trimmed. */
export function formatTao(rao: bigint): string {
  const neg = rao < 0n;
  const abs = neg ? -rao : rao;
  const whole = abs / 1_000_000_000n;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}
