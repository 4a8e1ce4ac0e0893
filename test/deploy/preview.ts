import { metricNames } from './promql.ts';

interface Sample {
  name: string;
  labels: string;
  value: number;
}

/** `name{labels} value` lines of Prometheus text (comments skipped). */
export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && Number.isFinite(Number(m[3]))) out.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * NOT Grafana: an HTML page with one box per dashboard panel, listing the raw samples (one scrape) of the metrics
 * its queries read, as bars. Made because Grafana cannot run where the tests run; labelled as such on the page.
 * Histograms show their `_count` and `_sum` series (bucket series are left out); PromQL is not evaluated.
 */
export function previewHtml(panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>, scraped: { validator: string; miner: string }): string {
  const all = { validator: samples(scraped.validator), miner: samples(scraped.miner) };
  const boxes = panels.filter((p) => p.type !== 'row' && p.targets).map((p) => {
    const names = new Set(p.targets!.flatMap((t) => metricNames(t.expr)).map((n) => n.replace(/_bucket$/, '')));
    const rows = [...all.validator.map((s) => ({ ...s, from: 'validator' })), ...all.miner.map((s) => ({ ...s, from: 'miner' }))]
      .filter((s) => names.has(s.name) || names.has(s.name.replace(/_(count|sum)$/, '')))
      .filter((s) => !s.name.endsWith('_bucket'))
      .slice(0, 12);
    const max = Math.max(1e-9, ...rows.map((r) => Math.abs(r.value)));
    const body = rows.length === 0
      ? '<div class="none">no samples in this scrape (Prometheus makes this series, or nothing was counted yet)</div>'
      : rows.map((r) => `<div class="row"><span class="lbl" title="${esc(r.name + r.labels)}">${esc(`${r.from} ${r.name.replace(/^(subnet_validator_|axon_)/, '')} ${r.labels.replace(/^\{|\}$/g, '').replace(/"/g, '')}`)}</span><span class="bar" style="width:${(100 * Math.abs(r.value)) / max}%"></span><span class="val">${+r.value.toPrecision(4)}</span></div>`).join('');
    return `<section><h2>${esc(p.title)}</h2><code>${esc(p.targets!.map((t) => t.expr).join('\n'))}</code>${body}</section>`;
  });
  return `<!doctype html><meta charset="utf-8"><title>dashboard preview (not Grafana)</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;background:#111217;color:#ccccdc}
.banner{background:#5c3c00;color:#fff;padding:10px 14px;border-radius:4px;font-size:15px;margin-bottom:14px}
main{display:grid;grid-template-columns:repeat(3,1fr);gap:10px}
section{background:#181b1f;border:1px solid #2c3235;border-radius:4px;padding:8px 10px;overflow:hidden}
h2{font-size:14px;margin:0 0 4px;color:#fff}
code{display:block;white-space:pre-wrap;font-size:10px;color:#8e8e8e;margin-bottom:6px}
.row{display:grid;grid-template-columns:1fr 70px 56px;gap:6px;align-items:center;font-size:11px;margin:2px 0}
.lbl{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar{height:10px;background:#73bf69;border-radius:2px;justify-self:start}
.val{text-align:right;font-variant-numeric:tabular-nums}
.none{color:#8e8e8e;font-style:italic}
</style>
<div class="banner"><b>Not Grafana.</b> A preview made by test/deploy/deploy.test.ts: one box per panel of deploy/grafana/dashboards/subnetkit.json,
showing the raw samples of one /metrics scrape of the validator and miners it ran (PromQL such as rate() and histogram_quantile() is not evaluated).
Grafana itself could not be run where this was made.</div>
<main>${boxes.join('')}</main>`;
}
