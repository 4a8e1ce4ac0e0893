/** PromQL words that are not metric names (the functions, aggregations and keywords the dashboard may use). */
const NOT_METRICS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'abs', 'ceil', 'floor', 'round',
  'clamp_min', 'clamp_max', 'clamp', 'vector', 'scalar', 'time', 'label_replace', 'label_join', 'sort', 'sort_desc',
  'avg_over_time', 'max_over_time', 'min_over_time', 'sum_over_time', 'count_over_time', 'last_over_time', 'changes', 'resets', 'absent', 'inf', 'nan',
]);

/** Metric names an expression reads: strings, label matchers, groupings and ranges removed, then functions. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    if (!NOT_METRICS.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names];
}

/** `job` label values an expression selects on (`job="a"`, `job=~"a|b"`). */
export function jobsSelected(expr: string): string[] {
  return [...expr.matchAll(/\bjob\s*(=~?)\s*"([^"]*)"/g)].flatMap((m) => (m[1] === '=~' ? m[2]!.split('|') : [m[2]!]));
}

/** Metric families in Prometheus text output, name → type. */
export function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** A histogram's `_bucket`/`_sum`/`_count` series → its family name. */
export function familyOf(name: string, known: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && known.get(base) === 'histogram' ? base : name;
}
