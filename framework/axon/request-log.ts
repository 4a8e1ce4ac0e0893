import type { Logger } from 'pino';
import type { AxonMetrics, MetricProtocol } from './metrics.ts';

/** `5GrwvaEF…utQY`: enough to tell callers apart in a log line. */
export function shortHotkey(hotkey: string): string {
  return hotkey.length > 12 ? `${hotkey.slice(0, 8)}…${hotkey.slice(-4)}` : hotkey;
}

/**
 * One debug line per answered request (both wires): who (verified hotkey, or `unverified` when it was turned
 * away before its signature was checked), route, status, duration and wire. Called only when debug is on.
 */
function logRequest(log: Logger, r: { hotkey: string; callerClass: string; route: string; status: number; seconds: number; protocol: MetricProtocol }): void {
  const caller = r.hotkey === '' ? 'unverified' : shortHotkey(r.hotkey);
  const ms = Math.round(r.seconds * 10_000) / 10;
  log.debug({ callerHotkey: caller, callerClass: r.callerClass, route: r.route, status: r.status, ms, protocol: r.protocol }, `${r.protocol} ${r.route} ${r.status} ${ms} ms from ${caller}`);
}

/** What both wires' exchanges know when they answer. */
export interface AnsweredExchange {
  route: { def: { name: string } };
  cls: string;
  caller: { hotkey: string };
  /** performance.now() when the request arrived. */
  arrival: number;
}

/** Count an answered request in the metrics and log it at debug: the one `record` of both wires' pipelines; the hot path pays one level check. */
export function recordAnswered(metrics: AxonMetrics, log: Logger, ex: AnsweredExchange, status: number, protocol: MetricProtocol): void {
  const seconds = (performance.now() - ex.arrival) / 1000;
  metrics.record(ex.route.def.name, status, ex.cls, seconds, protocol);
  if (log.isLevelEnabled('debug')) logRequest(log, { hotkey: ex.caller.hotkey, callerClass: ex.cls, route: ex.route.def.name, status, seconds, protocol });
}
