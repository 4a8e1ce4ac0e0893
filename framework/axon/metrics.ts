import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Per-axon Prometheus metrics. Route labels are bounded to attached synapses (+ 'other'). */
export interface AxonMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status' | 'caller_class' | 'protocol'>;
  latency: Histogram<'route' | 'status' | 'caller_class'>;
  verifyFailures: Counter<'reason'>;
  /** Requests refused by the per-caller rate limit, by which limit decided (process, shared, fallback). */
  rateLimited: Counter<'scope'>;
  /** Rate-limit decisions the shared store could not make (unreachable or slow: the process limit decided). */
  rateLimitStoreErrors: Counter;
  queueDepth: Gauge;
  inflight: Gauge;
  /** Count one answered request and its latency (labelled children cached: label lookup is per request). */
  record(route: string, status: number, callerClass: string, seconds: number, protocol?: MetricProtocol): void;
}

/** Read at scrape time (not set per request): the admission queue's running and waiting counts. */
export interface AdmissionGauges {
  running: number;
  waiting: number;
}

const FLUSH_EVERY = 256;

/** Which wire a request came in on (`http` for /healthz, /metrics and unrouted requests). */
export type MetricProtocol = 'synapse' | 'btauth' | 'http';

export function createAxonMetrics(registry: Registry = new Registry(), admission?: AdmissionGauges): AxonMetrics {
  const requests = new Counter({
    name: 'axon_requests_total',
    help: 'Requests answered, by route, HTTP status, caller class (validator/registered/unknown) and wire protocol (btauth/synapse/http)',
    labelNames: ['route', 'status', 'caller_class', 'protocol'] as const,
    registers: [registry],
    collect: () => flush(),
  });
  const latency = new Histogram({
    name: 'axon_request_duration_seconds',
    help: 'Time from request arrival to the response being sent, by route, HTTP status and caller class',
    labelNames: ['route', 'status', 'caller_class'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 12, 30],
    registers: [registry],
    collect: () => flush(),
  });
  // Label sets are bounded (attached routes + 'other', HTTP statuses, 3 caller classes). prom-client hashes the
  // labels on every call, so answers are queued per label set and handed over in batches: at every scrape (the
  // metrics' collect) and every FLUSH_EVERY answers, which also bounds the queue.
  const children = new Map<string, { count: { inc(n?: number): void }; time: { observe(v: number): void }; seconds: number[] }>();
  let queued = 0;
  function flush(): void {
    if (queued === 0) return;
    queued = 0;
    for (const c of children.values()) {
      if (c.seconds.length === 0) continue;
      c.count.inc(c.seconds.length);
      for (const v of c.seconds) c.time.observe(v);
      c.seconds.length = 0;
    }
  }
  const record = (route: string, status: number, callerClass: string, seconds: number, protocol: MetricProtocol = 'synapse'): void => {
    const key = `${route}\0${status}\0${callerClass}\0${protocol}`;
    let c = children.get(key);
    if (c === undefined) {
      const st = String(status);
      c = { count: requests.labels({ route, status: st, caller_class: callerClass, protocol }), time: latency.labels({ route, status: st, caller_class: callerClass }), seconds: [] };
      children.set(key, c);
    }
    c.seconds.push(seconds);
    if (++queued >= FLUSH_EVERY) flush();
  };
  return {
    registry,
    requests,
    latency,
    record,
    verifyFailures: new Counter({
      name: 'axon_verification_failures_total',
      help: 'Requests rejected by verification, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'axon_rate_limited_total',
      help: 'Requests refused with 429 by the per-caller rate limit, by scope: process (in-memory), shared (Redis, all processes behind the hotkey), fallback (in-memory while Redis is unreachable)',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    rateLimitStoreErrors: new Counter({
      name: 'axon_rate_limit_store_errors_total',
      help: 'Rate-limit decisions the shared store (Redis) could not make; the per-process limit decided instead (fail-open)',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'axon_queue_depth',
      help: 'Requests waiting for an admission slot',
      registers: [registry],
      collect() {
        if (admission) this.set(admission.waiting);
      },
    }),
    inflight: new Gauge({
      name: 'axon_handlers_running',
      help: 'Handlers currently running',
      registers: [registry],
      collect() {
        if (admission) this.set(admission.running);
      },
    }),
  };
}
