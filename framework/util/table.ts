/** Minimal fixed-width table rendering for terminal output (metagraph, demo). */
export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number;
  align?: 'left' | 'right';
}

export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const pad = (s: string, i: number) => {
    const right = (columns[i]!.align ?? 'right') === 'right';
    return right ? s.padStart(widths[i]!) : s.padEnd(widths[i]!);
  };
  const line = (vals: string[]) => vals.map(pad).join('  ').trimEnd();
  const header = line(columns.map((c) => c.header));
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [header, rule, ...cells.map(line)].join('\n');
}

/** u16 proportion → fraction with 4 decimals ("0.1234"). */
export function u16Fraction(v: number): string {
  return (v / 65535).toFixed(4);
}
