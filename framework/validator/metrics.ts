import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ValidatorMetrics {
  registry: Registry;
  rounds: Counter<'result'>;
  minerScore: Gauge<'uid' | 'hotkey'>;
  weightSets: Counter<'result'>;
  chainLatency: Histogram<'op'>;
  pendingTasks: Gauge;
  step: Gauge;
  queries: Counter<'outcome'>;
  scoringErrors: Counter;
}

export function createValidatorMetrics(registry: Registry = new Registry()): ValidatorMetrics {
  return {
    registry,
    rounds: new Counter({ name: 'subnet_validator_rounds_total', help: 'Rounds by result (ok, error, empty)', labelNames: ['result'], registers: [registry] }),
    minerScore: new Gauge({ name: 'subnet_validator_miner_score', help: 'Aggregated score per miner', labelNames: ['uid', 'hotkey'], registers: [registry] }),
    weightSets: new Counter({
      name: 'subnet_validator_weight_sets_total',
      help: 'Weight submissions by result (set, committed, revealed, rate_limited, skipped, expired, error)',
      labelNames: ['result'],
      registers: [registry],
    }),
    chainLatency: new Histogram({
      name: 'subnet_validator_chain_call_seconds',
      help: 'Chain call latency by operation',
      labelNames: ['op'],
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    pendingTasks: new Gauge({ name: 'subnet_validator_pending_tasks', help: 'Delayed tasks waiting to be scored', registers: [registry] }),
    step: new Gauge({ name: 'subnet_validator_step', help: 'Rounds started so far', registers: [registry] }),
    queries: new Counter({ name: 'subnet_validator_queries_total', help: 'Miner queries by outcome (ok, failed)', labelNames: ['outcome'], registers: [registry] }),
    scoringErrors: new Counter({ name: 'subnet_validator_scoring_errors_total', help: 'Scorer failures (validator-side; no miner was penalized)', registers: [registry] }),
  };
}
