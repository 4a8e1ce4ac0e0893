// subnetkit explorer: a hash-routed page over /api/explorer/*, refreshed on every block from the live feed.
const app = document.getElementById('app');
const crumbs = document.getElementById('crumbs');
const blockEl = document.getElementById('block');
const liveEl = document.getElementById('live');

const state = { sort: { key: 'uid', dir: 1 }, charts: [], rendering: false, pending: false };

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const short = (k) => (k && k.length > 14 ? `${k.slice(0, 6)}…${k.slice(-4)}` : k || '');
const tao = (x) => x.toLocaleString('en-US', { maximumFractionDigits: 4, minimumFractionDigits: 4 });
const frac = (x) => x.toFixed(4);

// The header shows the newest block seen, from the live feed or from any page read.
let headBlock = -1;
function showBlock(n) {
  if (n > headBlock) { headBlock = n; blockEl.textContent = String(n); }
}

async function api(path) {
  const res = await fetch(`/api/explorer${path}`);
  const body = await res.json();
  if (!body.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  return body.result;
}

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'subnet' && /^\d+$/.test(parts[1] ?? '')) {
    if (parts[2] === 'uid' && /^\d+$/.test(parts[3] ?? '')) return { view: 'uid', netuid: Number(parts[1]), uid: Number(parts[3]) };
    return { view: 'subnet', netuid: Number(parts[1]) };
  }
  return { view: 'subnets' };
}

async function render() {
  if (state.rendering) { state.pending = true; return; }
  state.rendering = true;
  try {
    const r = route();
    if (r.view === 'subnets') await renderSubnets();
    else if (r.view === 'subnet') await renderSubnet(r.netuid);
    else await renderUid(r.netuid, r.uid);
  } catch (e) {
    app.innerHTML = `<p class="error" id="error">${esc(e.message)}</p>`;
  } finally {
    state.rendering = false;
    if (state.pending) { state.pending = false; void render(); }
  }
}

async function renderSubnets() {
  const info = await api('/subnets');
  document.getElementById('chain-kind').textContent = info.kind;
  showBlock(info.block);
  crumbs.innerHTML = 'subnets';
  const rows = info.subnets.map((s) => `
    <tr data-netuid="${s.netuid}">
      <td><a href="#/subnet/${s.netuid}">${s.netuid}</a></td>
      <td class="n">${s.n} / ${s.maxUids}</td><td>${s.validators}</td><td>${s.tempo}</td>
      <td>${tao(s.stakeTao)}</td><td>${tao(s.emissionTao)}</td>
      <td class="key" title="${esc(s.ownerHotkey ?? '')}">${esc(short(s.ownerHotkey ?? '—'))}</td>
    </tr>`).join('');
  app.innerHTML = `<h2>Subnets <span class="muted">(${info.subnets.length})</span></h2>
    <table id="subnets"><thead><tr><th>netuid</th><th>neurons</th><th>validators</th><th>tempo</th>
    <th>stake τ</th><th>emission τ / epoch</th><th class="key">owner hotkey</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="7" class="muted">no subnets yet</td></tr>'}</tbody></table>`;
}

const columns = [
  ['uid', 'uid'], ['hotkey', 'hotkey'], ['coldkey', 'coldkey'], ['stakeTao', 'stake τ'], ['validatorPermit', 'permit'],
  ['active', 'active'], ['incentive', 'incentive'], ['dividends', 'dividends'], ['emissionTao', 'emission τ'],
  ['trust', 'v-trust'], ['consensus', 'consensus'], ['axon', 'axon'], ['updatedBlocksAgo', 'updated (blocks ago)'],
];

function cell(key, n, netuid) {
  const v = n[key];
  switch (key) {
    case 'uid': return `<td><a href="#/subnet/${netuid}/uid/${n.uid}">${n.uid}</a></td>`;
    case 'hotkey': case 'coldkey': return `<td class="key" data-${key}="${esc(v)}" title="${esc(v)}">${esc(short(v))}</td>`;
    case 'stakeTao': case 'emissionTao': return `<td>${tao(v)}</td>`;
    case 'validatorPermit': return `<td>${v ? '<span class="badge">V</span>' : ''}</td>`;
    case 'active': return `<td>${v ? 'yes' : 'no'}</td>`;
    case 'axon': return `<td class="key">${esc(v ?? '—')}</td>`;
    case 'updatedBlocksAgo': return `<td>${n.lastUpdate === 0 ? 'never' : v}</td>`;
    default: return `<td>${frac(v)}</td>`;
  }
}

function sorted(neurons) {
  const { key, dir } = state.sort;
  return [...neurons].sort((a, b) => {
    const x = a[key]; const y = b[key];
    const c = typeof x === 'string' || typeof y === 'string' ? String(x ?? '').localeCompare(String(y ?? '')) : Number(x) - Number(y);
    return c * dir || a.uid - b.uid;
  });
}

function heatColor(v) {
  // 0 → panel, 1 → accent; sqrt so small weights stay visible
  const t = Math.sqrt(Math.max(0, Math.min(1, v)));
  const mix = (a, b) => Math.round(a + (b - a) * t);
  return `rgb(${mix(22, 79)},${mix(29, 179)},${mix(38, 255)})`;
}

function heatmap(w) {
  if (w.rows.length === 0) return '<p class="muted" id="weights-empty">no weights set yet</p>';
  const head = Array.from({ length: w.n }, (_v, j) => `<th>${j}</th>`).join('');
  const rows = w.rows.map((r) => {
    const dense = new Array(w.n).fill(0);
    for (const [j, v] of r.weights) if (j < w.n) dense[j] = v;
    return `<tr data-uid="${r.uid}"><th>${r.uid}</th>${dense.map((v, j) => `<td data-dest="${j}" data-w="${v.toFixed(6)}" title="${r.uid} → ${j}: ${(v * 100).toFixed(2)} %" style="background:${heatColor(v)}"></td>`).join('')}</tr>`;
  }).join('');
  return `<table class="heatmap" id="weights"><thead><tr><th>from \\ to</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

async function renderSubnet(netuid) {
  const [view, weights] = await Promise.all([api(`/subnets/${netuid}`), api(`/subnets/${netuid}/weights`)]);
  crumbs.innerHTML = `<a href="#/">subnets</a> / subnet ${netuid}`;
  showBlock(view.block);
  const head = columns.map(([k, label]) => {
    const sortedCls = state.sort.key === k ? ` class="sorted${k === 'hotkey' || k === 'coldkey' || k === 'axon' ? ' key' : ''}" data-dir="${state.sort.dir > 0 ? '▲' : '▼'}"` : (k === 'hotkey' || k === 'coldkey' || k === 'axon' ? ' class="key"' : '');
    return `<th data-key="${k}"${sortedCls}>${label}</th>`;
  }).join('');
  const body = sorted(view.neurons).map((n) => `<tr data-uid="${n.uid}">${columns.map(([k]) => cell(k, n, netuid)).join('')}</tr>`).join('');
  const hp = Object.entries(view.hyperparameters).map(([k, v]) => `<div><span>${esc(k)}</span><span>${esc(v)}</span></div>`).join('');
  app.innerHTML = `<h2>Subnet ${netuid} <span class="muted">· ${view.neurons.length === 1 ? '1 neuron' : `${view.neurons.length} neurons`} · block ${view.block}</span></h2>
    <table id="metagraph"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>
    <h2>Weights</h2>${heatmap(weights)}
    <h2>Hyperparameters</h2><div class="hp" id="hyperparameters">${hp}</div>`;
  for (const th of app.querySelectorAll('#metagraph th[data-key]')) {
    th.addEventListener('click', () => {
      const key = th.dataset.key;
      state.sort = state.sort.key === key ? { key, dir: -state.sort.dir } : { key, dir: key === 'uid' ? 1 : -1 };
      void render();
    });
  }
}

function chart(el, title, blocks, values) {
  const opts = {
    title, width: Math.max(360, el.clientWidth - 16), height: 200,
    scales: { x: { time: false } },
    axes: [{ stroke: '#7d8b9c', grid: { stroke: '#253041' } }, { stroke: '#7d8b9c', grid: { stroke: '#253041' } }],
    series: [{ label: 'block' }, { label: title, stroke: '#4fb3ff', width: 2, fill: 'rgba(79,179,255,0.12)' }],
  };
  return new uPlot(opts, [blocks, values], el);
}

async function renderUid(netuid, uid) {
  const [view, hist] = await Promise.all([api(`/subnets/${netuid}`), api(`/subnets/${netuid}/history?uid=${uid}`)]);
  const n = view.neurons[uid];
  crumbs.innerHTML = `<a href="#/">subnets</a> / <a href="#/subnet/${netuid}">subnet ${netuid}</a> / uid ${uid}`;
  if (!n) { app.innerHTML = `<p class="error" id="error">uid ${uid} is not registered on subnet ${netuid}</p>`; return; }
  for (const c of state.charts) c.destroy();
  state.charts = [];
  app.innerHTML = `<h2>uid ${uid} <span class="muted">· <span class="key" id="uid-hotkey">${esc(n.hotkey)}</span></span></h2>
    <p class="muted" id="uid-summary">coldkey ${esc(n.coldkey)} · stake ${tao(n.stakeTao)} τ · incentive ${frac(n.incentive)} · dividends ${frac(n.dividends)} · ${hist.blocks.length} samples</p>
    <div class="grid">
      <div class="chart" id="chart-incentive"></div><div class="chart" id="chart-dividends"></div>
      <div class="chart" id="chart-emission"></div><div class="chart" id="chart-stake"></div>
    </div>`;
  const series = [['chart-incentive', 'incentive', hist.incentive], ['chart-dividends', 'dividends', hist.dividends], ['chart-emission', 'emission τ', hist.emissionTao], ['chart-stake', 'stake τ', hist.stakeTao]];
  for (const [id, title, values] of series) state.charts.push(chart(document.getElementById(id), title, hist.blocks, values));
}

function connectLive() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/explorer/live`);
  let last = 0;
  ws.onopen = () => { liveEl.className = 'live on'; };
  ws.onclose = () => { liveEl.className = 'live off'; setTimeout(connectLive, 2000); };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type !== 'block') return;
    showBlock(msg.block.number);
    // Re-read at most twice a second, however fast blocks come.
    const now = Date.now();
    if (now - last > 500) { last = now; void render(); }
  };
}

window.addEventListener('hashchange', () => { state.sort = { key: 'uid', dir: 1 }; void render(); });
void render();
connectLive();
