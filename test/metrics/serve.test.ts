import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../framework/errors.ts';
import { serveMetrics } from '../../framework/metrics/index.ts';

describe('serveMetrics', () => {
  it('serves the registry on /metrics only, and refuses a busy port with a UserError', async () => {
    const registry = new Registry();
    new Counter({ name: 'demo_things_total', help: 'things', registers: [registry] }).inc(3);
    const server = await serveMetrics(registry, { port: 0 });
    try {
      const ok = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe(registry.contentType);
      expect(await ok.text()).toMatch(/^demo_things_total 3$/m);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
      const clash = await serveMetrics(registry, { port: server.port }).catch((e: unknown) => e);
      expect(clash).toBeInstanceOf(UserError);
      expect((clash as UserError).message).toMatch(/cannot serve metrics on 127\.0\.0\.1:\d+/);
    } finally {
      await server.close();
    }
  });
});
