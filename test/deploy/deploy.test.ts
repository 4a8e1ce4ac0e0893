import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { ipAllowList } from '../../framework/util/ip-allow.ts';
import { ProcessGroup, ROOT, SUBNET_BIN, createWallets, freePort, tempDir, type Proc } from '../e2e/support.ts';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from '../support/chromium.ts';
import { families, familyOf, jobsSelected, metricNames } from './promql.ts';
import { previewHtml } from './preview.ts';

/**
 * deploy/ cannot rot: every metric the Grafana dashboard queries must be exported by a real validator or miner,
 * every job it selects must be a scrape job, every scrape target must be a compose service serving /metrics on
 * that port to Prometheus, and the subnet commands of docker-compose.yml (and bootstrap.sh) are run here, with
 * loopback hosts and free ports, against a real `subnet localnet`. Docker and Grafana are not run (not available).
 */
const DEPLOY = join(ROOT, 'deploy');
const compose = z
  .object({
    services: z.record(
      z.object({
        command: z.array(z.string()).optional(),
        entrypoint: z.array(z.string()).optional(),
        environment: z.record(z.string()).optional(),
        volumes: z.array(z.string()).optional(),
        ports: z.array(z.string()).optional(),
        networks: z.record(z.object({ ipv4_address: z.string() })).optional(),
      }).passthrough(),
    ),
    networks: z.object({ subnet: z.object({ ipam: z.object({ config: z.array(z.object({ subnet: z.string() })) }) }) }),
  })
  .parse(parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }));
const prometheus = z
  .object({ scrape_configs: z.array(z.object({ job_name: z.string(), metrics_path: z.string().default('/metrics'), static_configs: z.array(z.object({ targets: z.array(z.string()) })) })) })
  .parse(parse(readFileSync(join(DEPLOY, 'prometheus', 'prometheus.yml'), 'utf8')));
const panelSchema = z.object({ type: z.string(), title: z.string(), targets: z.array(z.object({ expr: z.string() })).optional() });
const dashboard = z
  .object({ uid: z.string(), panels: z.array(panelSchema), templating: z.object({ list: z.array(z.object({ name: z.string(), type: z.string(), definition: z.string().optional() })) }) })
  .parse(JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'dashboards', 'subnetkit.json'), 'utf8')));

const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const variableMetrics = dashboard.templating.list.flatMap((v) => [...(v.definition ?? '').matchAll(/label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/g)].map((m) => m[1]!));
const JOB_ROLE: Record<string, 'validator' | 'miner'> = { 'subnet-validator': 'validator', 'subnet-miner': 'miner' };
/** Series Prometheus makes itself for every target. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

function flagValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

const subnetServices = Object.entries(compose.services).filter(([, s]) => s.command !== undefined && s.command.length > 0 && (s as { image?: string }).image === 'subnetkit:dev');

describe('deploy/: compose, Prometheus and Grafana files agree with each other', () => {
  it('the dashboard queries only scrape jobs, and every scrape target is a compose service whose metrics port lets Prometheus in', () => {
    expect(exprs.length).toBeGreaterThan(10);
    const jobs = new Set(prometheus.scrape_configs.map((c) => c.job_name));
    for (const e of exprs) for (const j of jobsSelected(e)) expect(jobs, `job "${j}" in ${e}`).toContain(j);
    const promIp = compose.services.prometheus?.networks?.subnet?.ipv4_address;
    expect(promIp).toBeDefined();
    for (const c of prometheus.scrape_configs) {
      expect(JOB_ROLE[c.job_name], `job ${c.job_name} has a role`).toBeDefined();
      for (const target of c.static_configs.flatMap((s) => s.targets)) {
        const [host, port] = target.split(':');
        const svc = compose.services[host!];
        expect(svc, `scrape target ${target} is a compose service`).toBeDefined();
        const args = svc!.command!;
        expect(args[0]).toBe(JOB_ROLE[c.job_name]);
        expect(flagValue(args, '--metrics-port'), target).toBe(port);
        expect(flagValue(args, '--metrics-host'), `${target} binds beyond loopback so Prometheus can reach it`).toBe('0.0.0.0');
        expect(ipAllowList((flagValue(args, '--metrics-allow') ?? '').split(','))(promIp), `${host}'s --metrics-allow admits Prometheus (${promIp})`).toBe(true);
      }
    }
  });

  it('compose: static IPs inside the network, SUBNET_CHAIN points at localnet, miners announce their own IP, mounted files exist', () => {
    const cidr = compose.networks.subnet.ipam.config[0]!.subnet;
    const inNet = ipAllowList([cidr]);
    const ips = new Map(Object.entries(compose.services).map(([n, s]) => [n, s.networks?.subnet?.ipv4_address]));
    for (const [n, ip] of ips) expect(ip !== undefined && inNet(ip), `${n} has an address in ${cidr}`).toBe(true);
    expect(new Set(ips.values()).size).toBe(ips.size);
    const chainUrl = `http://${ips.get('localnet')}:${flagValue(compose.services.localnet!.command!, '--port')}`;
    for (const [n, s] of subnetServices) if (n !== 'localnet') expect(s.environment?.SUBNET_CHAIN, n).toBe(chainUrl);
    expect(compose.services.bootstrap?.environment?.SUBNET_CHAIN).toBe(chainUrl);
    for (const [n, s] of subnetServices.filter(([, s]) => s.command![0] === 'miner')) expect(flagValue(s.command!, '--external-ip'), n).toBe(ips.get(n));
    for (const s of [compose.services.prometheus!, compose.services.grafana!]) {
      for (const v of s.volumes ?? []) expect(existsSync(join(DEPLOY, v.split(':')[0]!)), v).toBe(true);
    }
    const datasource = parse(readFileSync(join(DEPLOY, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ url: string; uid: string }> };
    expect(datasource.datasources[0]!.url).toBe('http://prometheus:9090');
    const provider = parse(readFileSync(join(DEPLOY, 'grafana', 'provisioning', 'dashboards', 'subnetkit.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    expect(compose.services.grafana!.volumes!.some((v) => v.endsWith(`:${provider.providers[0]!.options.path}:ro`))).toBe(true);
  });

  it('the metric-name extraction finds names and only names', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, op) (rate(a_seconds_bucket{job="x", op=~"get|set"}[5m]))) * 60')).toEqual(['a_seconds_bucket']);
    expect(metricNames('sum by (result) (increase(b_total[15m])) / on(instance) group_left c_gauge')).toEqual(['b_total', 'c_gauge']);
    expect(metricNames('up{job=~"subnet-validator|subnet-miner"}')).toEqual(['up']);
  });

  it('promtool accepts the Prometheus config and parses every dashboard query, when it is installed', async () => {
    const which = spawnSync('sh', ['-c', 'command -v promtool']);
    if (which.status !== 0) {
      if (process.env.CI === 'true') throw new Error('promtool is missing: .ci/run installs it with apt-get install prometheus');
      console.warn('SKIPPED: promtool not installed (apt-get install prometheus); the config and queries were checked structurally only');
      return;
    }
    const r = spawnSync('promtool', ['check', 'config', '--syntax-only', join(DEPLOY, 'prometheus', 'prometheus.yml')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // each query as a recording rule (Grafana's $variables as regexes): `check rules` parses the PromQL
    const rules = { groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query${i}`, expr: e.replace(/\$(validator|miner)\b/g, '.*') })) }] };
    const file = join(await tempDir('promql'), 'rules.yml');
    writeFileSync(file, JSON.stringify(rules));
    const q = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    console.log(`promtool check rules: ${q.stdout.trim().split('\n').at(-1)}`);
    expect(q.status, q.stdout + q.stderr).toBe(0);
  });
});

describe.sequential('deploy/: the compose commands run a subnet whose /metrics feed every dashboard panel', () => {
  const group = new ProcessGroup();
  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(25))));
  afterAll(() => group.killAll());

  it('bootstrap.sh, then the validator and miners with the compose flags; every dashboard metric is exported', async () => {
    const dir = await tempDir('deploy');
    const local = new Map<string, string>([['--host', '127.0.0.1'], ['--metrics-host', '127.0.0.1'], ['--external-ip', '127.0.0.1'], ['--state', join(dir, 'chain.json')], ['--state-dir', join(dir, 'validator-state')]]);
    const localArgs = (args: readonly string[], ports: Record<string, string>) =>
      args.map((a, i) => {
        const flag = args[i - 1] ?? '';
        if (ports[flag] !== undefined) return ports[flag]!;
        if (flag === '--metrics-allow') return `${a},127.0.0.1`; // the test scrapes from loopback
        if (flag === '--block-time') return '150';
        return local.get(flag) ?? a;
      });
    const chainPort = await freePort();
    const localnet = group.subnet('localnet', localArgs(compose.services.localnet!.command!, { '--port': String(chainPort) }));
    const url = (await localnet.waitFor(/rpc:\s+(http:\/\/127\.0\.0\.1:\d+)/, 45_000))[1]!;
    // wallets in-process (bootstrap.sh skips `wallet create` for existing ones): a few CLI start-ups fewer
    await createWallets(join(dir, 'wallets'), ['owner', 'validator', 'miner1', 'miner2']);
    const env = { BT_WALLET_PATH: join(dir, 'wallets'), SUBNET_CHAIN: url, SUBNET_NETUID: compose.services.validator!.environment!.SUBNET_NETUID!, LOG_FORMAT: 'json' };
    const t0 = Date.now();
    const boot = await promisify(execFile)('sh', [join(DEPLOY, 'bootstrap.sh')], { cwd: ROOT, env: { ...process.env, ...env, NODE_NO_WARNINGS: '1', SUBNET_CLI: `${process.execPath} ${SUBNET_BIN}` }, timeout: 180_000 });
    expect(boot.stdout).toContain('bootstrap: subnet 1 ready');
    const tBoot = Date.now();

    const scrapes: Array<{ role: 'validator' | 'miner'; name: string; port: number; proc: Proc }> = [];
    for (const [name, svc] of subnetServices.filter(([, s]) => s.command![0] === 'validator' || s.command![0] === 'miner')) {
      const metricsPort = await freePort();
      const args = localArgs(svc.command!, { '--port': '0', '--metrics-port': String(metricsPort) });
      scrapes.push({ role: svc.command![0] as 'validator' | 'miner', name, port: metricsPort, proc: group.subnet(name, args, env) });
    }
    for (const s of scrapes) await s.proc.waitFor(/"msg":"metrics on \/metrics"/, 60_000);
    const tUp = Date.now();
    const text = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const validator = scrapes.find((s) => s.role === 'validator')!;
    // wait for scored rounds and for the miners to have answered the validator
    const byRole = await group.until('rounds scored and miner requests counted', async () => {
      const v = await text(validator.port);
      const miners = await Promise.all(scrapes.filter((s) => s.role === 'miner').map((s) => text(s.port)));
      const ok = /subnet_validator_rounds_total\{result="ok"\} [1-9]/.test(v) && /subnet_validator_miner_score\{/.test(v) && miners.every((m) => /axon_requests_total\{route="PuzzleSynapse",status="200"/.test(m));
      return ok ? { validator: v, miner: miners.join('\n') } : false;
    }, 120_000, 500);
    console.log(`phases: bootstrap.sh ${((tBoot - t0) / 1000).toFixed(1)} s, processes up ${((tUp - tBoot) / 1000).toFixed(1)} s, first scored rounds ${((Date.now() - tUp) / 1000).toFixed(1)} s`);

    const exported = { validator: families(byRole.validator), miner: families(byRole.miner) };
    const used = new Map<string, Set<'validator' | 'miner'>>();
    for (const e of exprs) {
      const roles = jobsSelected(e).map((j) => JOB_ROLE[j]).filter((r): r is 'validator' | 'miner' => r !== undefined);
      for (const n of metricNames(e)) used.set(n, new Set([...(used.get(n) ?? []), ...roles]));
    }
    for (const n of variableMetrics) used.set(n, used.get(n) ?? new Set());
    const missing: string[] = [];
    for (const [name, roles] of used) {
      if (PROMETHEUS_SERIES.has(name)) continue;
      const where = roles.size > 0 ? [...roles] : (['validator', 'miner'] as const);
      if (!where.some((r) => exported[r].has(familyOf(name, exported[r])))) missing.push(`${name} (${where.join('/')})`);
    }
    console.log(`dashboard: ${exprs.length} queries over ${used.size} metric names; validator exports ${exported.validator.size} families, miners ${exported.miner.size}; missing: ${missing.join(', ') || 'none'}`);
    expect(missing).toEqual([]);
    // the names the test extracted are real: the core panels' series have samples
    for (const re of [/subnet_validator_chain_call_seconds_bucket\{/, /subnet_validator_queries_total\{outcome="ok"\} [1-9]/]) expect(byRole.validator).toMatch(re);
    expect(byRole.miner).toMatch(/axon_request_duration_seconds_bucket\{le="[^"]+",route="PuzzleSynapse",status="200",caller_class="(validator|registered)"\}/);
    await screenshotPreview(byRole);
    // and the public axon ports do not serve them
    for (const s of scrapes.filter((x) => x.role === 'miner')) {
      const line = s.proc.output().split('\n').find((l) => l.includes('"msg":"miner serving'));
      const axonPort = Number((JSON.parse(line!) as { port: number }).port);
      expect((await fetch(`http://127.0.0.1:${axonPort}/metrics`)).status, `${s.name} axon port`).toBe(404);
    }
  }, 300_000);
});

/** The labelled not-Grafana preview of the dashboard's panels (see preview.ts), saved under .tmp/screenshots. */
async function screenshotPreview(scraped: { validator: string; miner: string }): Promise<void> {
  if (!hasChromium) {
    if (process.env.CI === 'true') throw new Error(`chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
    console.warn(`SKIPPED: dashboard preview screenshot (no chromium at ${CHROMIUM})`);
    return;
  }
  const dir = join(ROOT, '.tmp', 'screenshots');
  mkdirSync(dir, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.setContent(previewHtml(dashboard.panels, scraped));
    expect(await page.locator('section').count()).toBe(dashboard.panels.filter((p) => p.type !== 'row').length);
    expect(await page.locator('.banner').innerText()).toContain('Not Grafana');
    const path = join(dir, 'dashboard-preview.png');
    await page.screenshot({ path, fullPage: true });
    console.log(`dashboard preview (not Grafana): ${path}`);
  } finally {
    await browser.close();
  }
}
