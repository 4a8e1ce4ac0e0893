import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { commitHashV2, convertWeightsAndUidsForEmit, processWeightsForNetuid } from '../../framework/consensus/weights/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
function cli(args: string[], env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'framework/cli/main.ts', 'weights', ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('subnet weights CLI', () => {
  it('process prints the same result as the library', () => {
    const r = cli(['process', '--uids', '3,1,2,0', '--weights', '0.1,0.5,0.4,0.25', '--max-weights-limit', '26214']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const processed = processWeightsForNetuid([3, 1, 2, 0], [0.1, 0.5, 0.4, 0.25], { minAllowedWeights: 1, maxWeightsLimit: 26214 });
    expect(JSON.parse(r.out)).toEqual({ processed, emit: convertWeightsAndUidsForEmit(processed.uids, processed.weights) });
  });

  it('hash takes the netuid from SUBNET_NETUID when the flag is absent', () => {
    const hotkey = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
    const r = cli(['hash', '--hotkey', hotkey, '--uids', '0,1', '--values', '65535,1', '--salt', '9,8', '--version-key', '7'], { SUBNET_NETUID: '12' });
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(commitHashV2({ hotkey, netuidIndex: 12, uids: [0, 1], values: [65535, 1], salt: [9, 8], versionKey: 7n }));
  });

  it('a bad flag is one line on stderr and exit code 2', () => {
    const r = cli(['process', '--weights', '1,x']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^error: invalid --weights/);
  });
});
