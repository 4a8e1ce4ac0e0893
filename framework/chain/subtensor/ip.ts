/** subtensor stores axon IPs as u128 (IPv4 in the low 32 bits); the framework uses strings. */
import { isIPv4, isIPv6 } from 'node:net';
import { UserError } from '../../errors.ts';

export function ipToU128(ip: string, ipType: 4 | 6): bigint {
  if (ipType === 4) {
    if (!isIPv4(ip)) throw new UserError(`'${ip}' is not an IPv4 address`);
    return ip.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
  }
  if (!isIPv6(ip)) throw new UserError(`'${ip}' is not an IPv6 address`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function u128ToIp(v: bigint, ipType: number): string {
  if (ipType === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((v >> s) & 0xffffn).toString(16));
  return groups.join(':');
}
