import { Counter, Gauge, type Registry } from 'prom-client';

export interface QueueMetrics {
  jobs: Gauge<'queue' | 'state'>;
  oldestWaitingSeconds: Gauge<'queue'>;
  stalled: Counter<'queue'>;
  failed: Counter<'queue'>;
  tasks: Gauge<'outcome'>;
  backlog: Gauge;
  leaseHeld: Gauge;
}

/** Queue health of the split validator, served on the coordinator's /metrics. */
export function createQueueMetrics(registry: Registry): QueueMetrics {
  return {
    jobs: new Gauge({ name: 'subnet_scale_queue_jobs', help: 'Jobs per queue by state (waiting, active, delayed, failed, prioritized)', labelNames: ['queue', 'state'], registers: [registry] }),
    oldestWaitingSeconds: new Gauge({ name: 'subnet_scale_queue_oldest_waiting_seconds', help: 'Age of the oldest job not yet picked up', labelNames: ['queue'], registers: [registry] }),
    stalled: new Counter({ name: 'subnet_scale_queue_stalled_total', help: 'Jobs whose worker vanished (lock lapsed); they are retried', labelNames: ['queue'], registers: [registry] }),
    failed: new Counter({ name: 'subnet_scale_queue_failures_total', help: 'Job attempts that failed (retried until attempts run out)', labelNames: ['queue'], registers: [registry] }),
    tasks: new Gauge({ name: 'subnet_scale_tasks', help: 'Tasks by outcome: allocated, applied (cursor), rewarded, skipped, lost, never_dispatched', labelNames: ['outcome'], registers: [registry] }),
    backlog: new Gauge({ name: 'subnet_scale_results_backlog', help: 'Tasks generated but not applied to the scores yet', registers: [registry] }),
    leaseHeld: new Gauge({ name: 'subnet_scale_coordinator_lease', help: '1 while this process holds the coordinator lease', registers: [registry] }),
  };
}
