import { logger } from '@polkadot/util';
import { afterEach, describe, expect, it } from 'vitest';
import { isPolkadotLogLine, quietPolkadotLogs } from '../../framework/util/polkadot-log.ts';

describe('quietPolkadotLogs', () => {
  const seen: unknown[][] = [];
  const original = console.error;
  afterEach(() => {
    console.error = original;
    seen.length = 0;
  });

  it("drops @polkadot/util logger lines and keeps everything else; SUBNET_POLKADOT_LOG=1 keeps them", () => {
    console.error = (...args: unknown[]) => void seen.push(args);
    const restore = quietPolkadotLogs({});
    logger('rpc-core').error('submitExtrinsic(extrinsic: Extrinsic): Hash:: 1010: Invalid Transaction');
    console.error('error: the chain rejected the call');
    console.error('2026-12-02 04:10:00', 'not a tag');
    restore();
    expect(seen).toEqual([['error: the chain rejected the call'], ['2026-12-02 04:10:00', 'not a tag']]);

    seen.length = 0;
    const keep = quietPolkadotLogs({ SUBNET_POLKADOT_LOG: '1' });
    logger('api/init').error('a failure');
    keep();
    expect(seen).toHaveLength(1);
    expect(isPolkadotLogLine(seen[0]!)).toBe(true);
    expect(String(seen[0]![1]).trim()).toBe('API/INIT:');
  });
});
