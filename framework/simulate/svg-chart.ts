/**
 * A small line-chart renderer producing standalone SVG: one or more panels side by side sharing the
 * y range and a legend, one polyline per series. Plain strings, no DOM, so it runs anywhere.
 */

export interface ChartSeries {
  name: string;
  /** One value per x step (epoch); non-finite values break the line. */
  values: number[];
}

export interface ChartPanel {
  title: string;
  series: ChartSeries[];
}

export interface SvgChartSpec {
  title: string;
  panels: ChartPanel[];
  xLabel?: string;
  yLabel?: string;
  /** Size of one panel's plot area, px. */
  panelWidth?: number;
  panelHeight?: number;
  /** Top of the shared y axis; default: the data maximum rounded up to a "nice" number. */
  yMax?: number;
}

// Tableau 10: distinguishable, and readable on white.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];
const LEGEND_ITEM = 120;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

/** Round up to 1, 2, 2.5 or 5 × 10^k so axis ticks land on readable values. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x - 1e-12) return m * p;
  return 10 * p;
}

function tickLabel(v: number): string {
  return Math.abs(v) >= 1000 || v === 0 ? String(v) : String(Number(v.toPrecision(3)));
}

export function renderSvgChart(spec: SvgChartSpec): string {
  const pw = spec.panelWidth ?? 360;
  const ph = spec.panelHeight ?? 240;
  const margin = { left: 56, right: 16, top: 64, bottom: 48 };
  const gap = 24;
  const names = [...new Set(spec.panels.flatMap((p) => p.series.map((s) => s.name)))];
  const width = margin.left + spec.panels.length * pw + (spec.panels.length - 1) * (gap + margin.left) + margin.right;
  const perRow = Math.max(1, Math.floor((width - margin.left) / LEGEND_ITEM));
  const legendRows = Math.ceil(names.length / perRow);
  const height = margin.top + ph + margin.bottom + legendRows * 20 + 8;
  const dataMax = Math.max(0, ...spec.panels.flatMap((p) => p.series.flatMap((s) => s.values.filter(Number.isFinite))));
  const yMax = spec.yMax ?? niceCeil(dataMax);
  const steps = Math.max(1, ...spec.panels.flatMap((p) => p.series.map((s) => s.values.length)));

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  spec.panels.forEach((panel, k) => {
    const x0 = margin.left + k * (pw + gap + margin.left);
    const y0 = margin.top;
    const sx = (i: number) => x0 + (steps <= 1 ? 0 : (i / (steps - 1)) * pw);
    const sy = (v: number) => y0 + ph - (Math.min(Math.max(v, 0), yMax) / yMax) * ph;
    out.push(`<g class="panel" data-title="${escapeXml(panel.title)}">`);
    out.push(`<text x="${x0 + pw / 2}" y="${y0 - 10}" text-anchor="middle" font-size="13">${escapeXml(panel.title)}</text>`);
    for (let t = 0; t <= 5; t++) {
      const v = (yMax * t) / 5;
      const y = sy(v);
      out.push(`<line x1="${x0}" y1="${fmt(y)}" x2="${x0 + pw}" y2="${fmt(y)}" stroke="#e0e0e0"/>`);
      out.push(`<text x="${x0 - 6}" y="${fmt(y + 4)}" text-anchor="end">${tickLabel(v)}</text>`);
    }
    const xStep = Math.max(1, Math.ceil(niceCeil((steps - 1) / 8)));
    for (let i = 0; i < steps && steps > 1; i += xStep) {
      out.push(`<text x="${fmt(sx(i))}" y="${y0 + ph + 16}" text-anchor="middle">${i}</text>`);
    }
    out.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#888888"/>`);
    if (spec.xLabel) out.push(`<text x="${x0 + pw / 2}" y="${y0 + ph + 34}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
    if (spec.yLabel && k === 0) {
      out.push(`<text transform="translate(14 ${y0 + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
    }
    for (const s of panel.series) {
      const idx = names.indexOf(s.name);
      out.push(polyline(s, idx, sx, sy));
    }
    out.push('</g>');
  });
  out.push(legend(names, perRow, margin.left, margin.top + ph + margin.bottom + 4));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function style(idx: number): string {
  const dash = DASHES[Math.floor(idx / PALETTE.length) % DASHES.length];
  return `stroke="${PALETTE[idx % PALETTE.length]}" stroke-width="2" fill="none"${dash ? ` stroke-dasharray="${dash}"` : ''}`;
}

function polyline(s: ChartSeries, idx: number, sx: (i: number) => number, sy: (v: number) => number): string {
  // Split at non-finite values so gaps show as gaps; a series is one <g class="series">.
  const parts: string[][] = [[]];
  s.values.forEach((v, i) => {
    if (Number.isFinite(v)) parts[parts.length - 1].push(`${fmt(sx(i))},${fmt(sy(v))}`);
    else if (parts[parts.length - 1].length > 0) parts.push([]);
  });
  const lines = parts.filter((p) => p.length > 0).map((p) => `<polyline points="${p.join(' ')}" ${style(idx)}/>`);
  return `<g class="series" data-name="${escapeXml(s.name)}"><title>${escapeXml(s.name)}</title>${lines.join('')}</g>`;
}

function legend(names: string[], perRow: number, x: number, y: number): string {
  const items = names.map((name, i) => {
    const lx = x + (i % perRow) * LEGEND_ITEM;
    const ly = y + Math.floor(i / perRow) * 20;
    return `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" ${style(i)}/><text x="${lx + 30}" y="${ly + 4}">${escapeXml(name)}</text>`;
  });
  return `<g class="legend">${items.join('')}</g>`;
}
