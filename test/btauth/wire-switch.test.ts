import type { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startMiner } from '../../framework/miner/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { squareCommodity, squareMiner } from '../validator/commodities.ts';
import { makeNet, silent, waitFor } from '../validator/support.ts';

/** One setting moves a commodity between the wires: the same commodity, validator and miners over btauth/1 and v10. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function counter(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []) as Array<{ labels: Record<string, string>; value: number }>;
}

async function runOver(protocol: 'btauth' | 'synapse') {
  const net = await makeNet({ miners: 3, tag: `wire-${protocol}` });
  cleanups.push(() => net.chain.close());
  const commodity = squareCommodity({ timeoutMs: 2000, protocol, route: '/square' });
  const behaviors = ['honest', 'honest', 'wrong'] as const;
  const miners = [];
  for (let i = 0; i < 3; i++) {
    const m = await startMiner({
      chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[i]!, commodity, logger: silent, miner: squareMiner(behaviors[i]!),
      axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' },
    });
    cleanups.push(() => m.stop());
    miners.push(m);
  }
  await net.chain.produceBlocks(1);
  // concurrent rounds: on btauth/1 they share one dendrite, on v10 each leases its own session
  const v = await startValidator({
    chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, statePath: net.dir,
    options: { concurrency: 8, roundIntervalMs: 1, logger: silent, disableWeights: true },
  });
  cleanups.push(() => v.stop());
  cleanups.push(net.drive(100));
  await waitFor('90 queries', async () => {
    const q = await counter(v.metrics, 'subnet_validator_queries_total');
    return q.reduce((s, x) => s + x.value, 0) >= 90;
  }, 60_000);
  const queries = await counter(v.metrics, 'subnet_validator_queries_total');
  const failed = queries.filter((x) => x.labels.outcome === 'failed').reduce((s, x) => s + x.value, 0);
  const byWire: Record<string, number> = {};
  for (const m of miners) {
    for (const x of await counter(m.axon.metrics, 'axon_requests_total')) {
      if (x.labels.route === 'SquareSynapse') byWire[`${x.labels.protocol} ${x.labels.status}`] = (byWire[`${x.labels.protocol} ${x.labels.status}`] ?? 0) + x.value;
    }
  }
  const scores = v.state.scores();
  const table = behaviors.map((b, i) => ({ wire: protocol, miner: i, behavior: b, score: Number((scores[net.minerHotkeys[i]!.ss58Address] ?? 0).toFixed(3)) }));
  return { failed, byWire, table };
}

describe('commodity protocol setting', () => {
  it('the same commodity runs over btauth/1 (default) and over the v10 wire by changing `protocol`', async () => {
    expect(squareCommodity().wire).toEqual({ protocol: 'btauth', path: '/SquareSynapse' });
    const rows = [];
    for (const protocol of ['btauth', 'synapse'] as const) {
      const r = await runOver(protocol);
      const other = protocol === 'btauth' ? 'synapse' : 'btauth';
      // a few 2 s timeouts happen on the loaded shared VM (on both wires); the wire itself must not fail
      expect(r.failed, JSON.stringify(r.byWire)).toBeLessThanOrEqual(9);
      expect(r.byWire[`${protocol} 200`] ?? 0).toBeGreaterThanOrEqual(80);
      expect(Object.keys(r.byWire).filter((k) => k.startsWith(other))).toEqual([]);
      // the cheater (wrong answers) never scores like the honest miners, on either wire
      const [h1, h2, cheat] = r.table.map((t) => t.score);
      expect(cheat).toBe(0);
      expect(Math.min(h1!, h2!)).toBeGreaterThan(0.2);
      rows.push(...r.table);
    }
    console.table(rows);
  }, 150_000);
});
