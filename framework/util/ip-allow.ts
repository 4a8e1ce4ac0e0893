import { BlockList, isIP } from 'node:net';
import { UserError } from '../errors.ts';

/** Decides from a socket's remote address whether it may read something (e.g. /metrics). */
export type IpAllow = (remoteAddress: string | undefined) => boolean;

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`. */
function unmapped(addr: string): string {
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}

/**
 * An allow-list of IP addresses and CIDR ranges (`127.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8`). Entries are
 * checked here, so a typo is one clear error at start-up rather than a list that silently allows nobody.
 */
export function ipAllowList(entries: readonly string[], what = '--metrics-allow'): IpAllow {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const [addr = '', bits, extra] = entry.split('/');
    const family = isIP(addr);
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(bits!) || prefix > max))) {
      throw new UserError(`${what}: '${entry}' is not an IP address or CIDR range`, { hint: 'e.g. 127.0.0.1,::1,10.0.0.0/8' });
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, prefix, type);
  }
  return (remote) => {
    if (remote === undefined) return false;
    const addr = unmapped(remote);
    const family = isIP(addr);
    return family !== 0 && list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** `a, b,c` → `['a','b','c']` (CLI flags and env values). */
export function splitList(v: string | readonly string[]): string[] {
  return (typeof v === 'string' ? v.split(',') : [...v]).map((s) => s.trim()).filter(Boolean);
}
