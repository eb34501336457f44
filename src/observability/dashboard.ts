// The live dashboard: one self-contained HTML page (inline CSS, vanilla JS, SVG charts; no
// build step, no CDN: stores often run where there is no internet). It listens to
// /api/events (a status tick every second with the whole cluster's view, plus this store's
// events) and falls back to polling /api/status and /api/cluster when the stream is silent.
//
// Stable hooks for tests and scripts:
//   #regions-table tr[data-region="1"][data-leader="n1"][data-term]   one row per region
//     td[data-store="n2"][data-role="follower"]                        one cell per store
//   #stores-table tr[data-store="n1"][data-up="true"]                   one row per store
//   #event-log li[data-event-type]                                     newest first
//   #chart-throughput, #chart-latency                                   SVG charts
//   body[data-updated]                                                  epoch ms of the last view
//
// The script avoids backslashes and template literals: it lives inside a TS template literal.

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface DashboardOptions {
  readonly clusterName: string;
  /** The store serving the page. */
  readonly storeId: string;
}

export function dashboardPage(o: DashboardOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.clusterName)} · raftkv</title>
<style>${STYLE}</style>
</head>
<body data-store="${esc(o.storeId)}" data-updated="0">
<header>
  <div class="brand"><span class="logo">raftkv</span><span class="sub">cluster</span><span id="cluster-name">${esc(o.clusterName)}</span></div>
  <div class="meta">
    <span>served by <b id="store-id">${esc(o.storeId)}</b></span>
    <span id="conn-state" class="conn down" data-state="connecting">connecting</span>
    <span id="updated">–</span>
  </div>
</header>
<main>
  <section class="cards">
    <div class="card"><div class="label">Stores up</div><div class="value" id="card-stores">–</div></div>
    <div class="card"><div class="label">Regions with a leader</div><div class="value" id="card-leaders">–</div></div>
    <div class="card"><div class="label">Throughput (cluster)</div><div class="value" id="card-tput">–</div></div>
    <div class="card"><div class="label">Latency p50 / p99 (this store, 1 s)</div><div class="value" id="card-latency">–</div></div>
  </section>
  <section class="panel">
    <h2>Regions <small>leader highlighted · per replica: role, applied index, entries behind the leader's commit</small></h2>
    <div class="scroll"><table id="regions-table"><thead></thead><tbody></tbody></table></div>
  </section>
  <section class="grid2">
    <div class="panel"><h2>Throughput <small>requests/s, all stores</small></h2><div id="chart-throughput" class="chart"></div></div>
    <div class="panel"><h2>Latency <small>ms, requests served by this store</small></h2><div id="chart-latency" class="chart"></div></div>
  </section>
  <section class="grid2">
    <div class="panel"><h2>Stores</h2><div class="scroll"><table id="stores-table"><thead><tr><th>Store</th><th>Address</th><th>State</th><th>Leads</th><th>Requests</th><th>Errors</th><th>req/s</th></tr></thead><tbody></tbody></table></div></div>
    <div class="panel"><h2>Events <small>elections, splits, stores down and up, snapshots</small></h2><ol id="event-log"></ol></div>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { --bg:#f5f7fa; --panel:#fff; --ink:#1d2433; --muted:#6b7385; --line:#e3e7ee; --accent:#2563eb;
  --lead:#16a34a; --lead-bg:#e8f7ee; --warn:#d97706; --bad:#dc2626; --bad-bg:#fdecec; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--ink); }
header { display:flex; justify-content:space-between; align-items:center; padding:12px 24px; background:#111827; color:#f9fafb; }
.brand { display:flex; gap:12px; align-items:baseline; }
.logo { font-weight:700; letter-spacing:.5px; color:#93c5fd; }
.sub { color:#9ca3af; font-size:13px; }
#cluster-name { font-size:18px; font-weight:600; }
.meta { display:flex; gap:16px; align-items:center; font-size:13px; color:#d1d5db; }
.conn { padding:2px 10px; border-radius:999px; font-size:12px; }
.conn.up { background:#14532d; color:#bbf7d0; } .conn.down { background:#7f1d1d; color:#fecaca; }
main { padding:20px 24px; display:flex; flex-direction:column; gap:16px; max-width:1400px; margin:0 auto; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(200px,1fr)); gap:16px; }
.card, .panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.4px; }
.card .value { font-size:24px; font-weight:600; margin-top:4px; font-variant-numeric:tabular-nums; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr)); gap:16px; }
h2 { font-size:15px; margin:0 0 10px; } h2 small { color:var(--muted); font-weight:400; margin-left:6px; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { color:var(--muted); font-weight:500; font-size:12px; }
td.replica { min-width:140px; }
td.replica.leader { background:var(--lead-bg); box-shadow:inset 3px 0 0 var(--lead); }
td.replica.down { color:var(--muted); background:#f3f4f6; }
.role { display:inline-block; min-width:18px; text-align:center; font-size:11px; font-weight:700; border-radius:4px; padding:0 4px; margin-right:6px; background:#e5e7eb; }
.role.leader { background:var(--lead); color:#fff; } .role.candidate, .role.pre-candidate { background:var(--warn); color:#fff; }
.behind { color:var(--warn); margin-left:6px; } .muted { color:var(--muted); }
.range { font-family:ui-monospace,Menlo,Consolas,monospace; font-size:12px; color:var(--muted); }
.leader-name { font-weight:600; color:var(--lead); } .no-leader { font-weight:600; color:var(--bad); }
.pill { padding:1px 8px; border-radius:999px; font-size:12px; }
.pill.up { background:var(--lead-bg); color:var(--lead); } .pill.down { background:var(--bad-bg); color:var(--bad); }
.chart svg { width:100%; height:170px; display:block; }
.chart .axis { stroke:var(--line); } .chart text { fill:var(--muted); font-size:10px; }
.legend { display:flex; gap:14px; font-size:12px; color:var(--muted); margin-top:4px; }
.legend i { display:inline-block; width:10px; height:3px; vertical-align:middle; margin-right:4px; }
#event-log { list-style:none; margin:0; padding:0; max-height:300px; overflow-y:auto; font-size:13px; }
#event-log li { padding:5px 0; border-bottom:1px solid var(--line); display:flex; gap:10px; }
#event-log time { color:var(--muted); font-variant-numeric:tabular-nums; flex:none; }
#event-log .tag { flex:none; font-size:11px; padding:0 6px; border-radius:4px; background:#eef2ff; color:var(--accent); }
#event-log .tag.bad { background:var(--bad-bg); color:var(--bad); } #event-log .tag.good { background:var(--lead-bg); color:var(--lead); }
`;

const SCRIPT = `
(function () {
  'use strict';
  var HISTORY = 120;
  var state = { status: null, cluster: null, tput: [], lat: [], prevCalls: {}, prevAt: 0, storeRate: {}, localEvents: [], lastTick: 0 };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  }
  function $(id) { return document.getElementById(id); }
  function clock(ms) { var d = new Date(ms); return d.toTimeString().slice(0, 8); }
  function num(n) { return Number(n).toLocaleString('en-US'); }
  function fixed(n, d) { return Number(n).toFixed(d); }
  function range(r) {
    return '[' + (r.startKey === '' ? '-inf' : JSON.stringify(r.startKey)) + ', ' + (r.endKey === '' ? '+inf' : JSON.stringify(r.endKey)) + ')';
  }
  function roleShort(role) {
    return role === 'leader' ? 'L' : role === 'follower' ? 'F' : role === 'candidate' ? 'C' : role === 'pre-candidate' ? 'P' : '?';
  }

  function onView(status, cluster) {
    state.lastTick = Date.now();
    if (status) state.status = status;
    if (cluster) {
      if (!state.cluster || cluster.atMs > state.cluster.atMs) sample(cluster);
      state.cluster = cluster;
    }
    if (status && status.latency && status.latency.windowMs) {
      var last = state.lat[state.lat.length - 1];
      if (!last || last.t < status.latency.startMs) push(state.lat, { t: status.latency.startMs, p50: status.latency.p50Ms, p99: status.latency.p99Ms, n: status.latency.count });
    }
    render();
  }

  // Throughput from each store's request counter: the sum of per-store increases, so a store
  // going down (its counter vanishing) or restarting (its counter reset) is no negative spike.
  function sample(cluster) {
    var dt = state.prevAt ? (cluster.atMs - state.prevAt) / 1000 : 0;
    var total = 0, any = false, next = {};
    cluster.stores.forEach(function (s) {
      if (!s.up) return;
      next[s.id] = s.calls;
      var before = state.prevCalls[s.id];
      if (before === undefined || dt <= 0) return;
      var d = s.calls >= before ? s.calls - before : s.calls;
      state.storeRate[s.id] = d / dt;
      total += d; any = true;
    });
    cluster.stores.forEach(function (s) { if (!s.up) state.storeRate[s.id] = 0; });
    if (any) push(state.tput, { t: cluster.atMs, v: total / dt });
    state.prevCalls = next;
    state.prevAt = cluster.atMs;
  }
  function push(list, p) { list.push(p); if (list.length > HISTORY) list.splice(0, list.length - HISTORY); }

  function render() {
    var c = state.cluster;
    if (c) {
      document.body.setAttribute('data-updated', String(c.atMs));
      $('updated').textContent = 'updated ' + clock(c.atMs);
      renderCards(c);
      renderRegions(c);
      renderStores(c);
    }
    renderCharts();
    renderEvents();
  }

  function renderCards(c) {
    var up = c.stores.filter(function (s) { return s.up; }).length;
    $('card-stores').textContent = up + ' / ' + c.stores.length;
    var led = c.regions.filter(function (r) { return r.leader !== ''; }).length;
    $('card-leaders').textContent = led + ' / ' + c.regions.length;
    var t = state.tput[state.tput.length - 1];
    $('card-tput').textContent = t ? num(Math.round(t.v)) + ' req/s' : '–';
    var l = state.lat[state.lat.length - 1];
    $('card-latency').textContent = l && l.n > 0 ? fixed(l.p50, 2) + ' / ' + fixed(l.p99, 2) + ' ms' : 'idle';
  }

  function renderRegions(c) {
    var table = $('regions-table');
    var head = '<tr><th>Region</th><th>Range</th><th>Leader</th><th>Term</th>';
    c.stores.forEach(function (s) { head += '<th data-store="' + esc(s.id) + '">' + esc(s.id) + (s.up ? '' : ' <span class="pill down">down</span>') + '</th>'; });
    table.tHead.innerHTML = head + '</tr>';
    var rows = '';
    c.regions.forEach(function (r) {
      rows += '<tr data-region="' + esc(r.id) + '" data-leader="' + esc(r.leader) + '" data-term="' + r.term + '" data-version="' + r.version + '">';
      rows += '<td><b>' + esc(r.id) + '</b> <span class="muted">v' + r.version + '</span></td>';
      rows += '<td class="range">' + esc(range(r)) + '</td>';
      rows += '<td class="leader-cell">' + (r.leader ? '<span class="leader-name">' + esc(r.leader) + '</span>' : '<span class="no-leader">none</span>') + '</td>';
      rows += '<td>' + r.term + '</td>';
      c.stores.forEach(function (s) {
        var p = r.replicas[s.id];
        if (!s.up) { rows += '<td class="replica down" data-store="' + esc(s.id) + '" data-role="down">down</td>'; return; }
        if (!p) { rows += '<td class="replica muted" data-store="' + esc(s.id) + '" data-role="none">–</td>'; return; }
        var isLeader = r.leader === s.id;
        rows += '<td class="replica' + (isLeader ? ' leader' : '') + '" data-store="' + esc(s.id) + '" data-role="' + esc(p.role) + '">';
        rows += '<span class="role ' + esc(p.role) + '" title="' + esc(p.role) + '">' + roleShort(p.role) + '</span>';
        rows += 'applied ' + num(p.applied);
        if (p.behind > 0) rows += '<span class="behind" title="entries behind the leader commit">-' + num(p.behind) + '</span>';
        rows += ' <span class="muted">' + num(p.keys) + ' keys</span></td>';
      });
      rows += '</tr>';
    });
    table.tBodies[0].innerHTML = rows || '<tr><td colspan="4" class="muted">no regions yet</td></tr>';
  }

  function renderStores(c) {
    var rows = '';
    c.stores.forEach(function (s) {
      var leads = c.regions.filter(function (r) { return r.leader === s.id; }).map(function (r) { return r.id; });
      rows += '<tr data-store="' + esc(s.id) + '" data-up="' + s.up + '">';
      rows += '<td><b>' + esc(s.id) + '</b>' + (s.self ? ' <span class="muted">(this page)</span>' : '') + '</td>';
      rows += '<td class="range">' + esc(s.address) + '</td>';
      rows += '<td>' + (s.up ? '<span class="pill up">up</span>' : '<span class="pill down" title="' + esc(s.error || '') + '">down</span>') + '</td>';
      rows += '<td>' + (leads.length ? esc(leads.join(', ')) : '<span class="muted">–</span>') + '</td>';
      rows += '<td>' + num(s.calls) + '</td><td>' + num(s.errors) + '</td>';
      rows += '<td>' + (s.up ? num(Math.round(state.storeRate[s.id] || 0)) : '–') + '</td></tr>';
    });
    $('stores-table').tBodies[0].innerHTML = rows;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function chart(el, series, unit) {
    var W = 600, H = 170, L = 44, R = 8, T = 8, B = 18;
    var all = [];
    series.forEach(function (s) { s.points.forEach(function (p) { all.push(p); }); });
    var max = niceMax(Math.max.apply(null, [0].concat(all.map(function (p) { return p.y; }))));
    // The server's clock, not the browser's: the page may run on another machine.
    var t1 = state.cluster ? state.cluster.atMs : Date.now(), t0 = t1 - HISTORY * 1000;
    function x(t) { return L + (W - L - R) * Math.max(0, (t - t0)) / (t1 - t0); }
    function y(v) { return T + (H - T - B) * (1 - v / max); }
    var svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="none" role="img">';
    for (var i = 0; i <= 4; i++) {
      var v = max * i / 4, yy = y(v);
      svg += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + yy + '" y2="' + yy + '"/>';
      svg += '<text x="' + (L - 6) + '" y="' + (yy + 3) + '" text-anchor="end">' + (max < 10 ? fixed(v, 1) : num(Math.round(v))) + '</text>';
    }
    svg += '<text x="' + L + '" y="' + (H - 4) + '">-' + HISTORY + ' s</text><text x="' + (W - R) + '" y="' + (H - 4) + '" text-anchor="end">now</text>';
    series.forEach(function (s) {
      if (s.points.length === 0) return;
      var pts = s.points.map(function (p) { return fixed(x(p.t), 1) + ',' + fixed(y(p.y), 1); }).join(' ');
      svg += '<polyline fill="none" stroke="' + s.color + '" stroke-width="2" stroke-linejoin="round" points="' + pts + '"/>';
    });
    svg += '</svg><div class="legend">' + series.map(function (s) {
      var lastP = s.points[s.points.length - 1];
      return '<span><i style="background:' + s.color + '"></i>' + esc(s.name) + (lastP ? ' ' + fixed(lastP.y, max < 10 ? 2 : 0) + ' ' + unit : '') + '</span>';
    }).join('') + '</div>';
    el.innerHTML = svg;
  }
  function renderCharts() {
    chart($('chart-throughput'), [{ name: 'requests/s', color: '#2563eb', points: state.tput.map(function (p) { return { t: p.t, y: p.v }; }) }], 'req/s');
    chart($('chart-latency'), [
      { name: 'p50', color: '#16a34a', points: state.lat.map(function (p) { return { t: p.t, y: p.p50 }; }) },
      { name: 'p99', color: '#d97706', points: state.lat.map(function (p) { return { t: p.t, y: p.p99 }; }) }
    ], 'ms');
  }

  function describe(e) {
    switch (e.type) {
      case 'leader': return { tag: 'election', cls: 'good', text: 'region ' + e.region + ': ' + e.leader + ' leads in term ' + e.term + (e.previous ? ' (was ' + e.previous + ')' : '') };
      case 'no-leader': return { tag: 'election', cls: 'bad', text: 'region ' + e.region + ': leader ' + e.previous + ' lost, election in progress' };
      case 'store-down': return { tag: 'store', cls: 'bad', text: 'store ' + e.store + ' is not answering' };
      case 'store-up': return { tag: 'store', cls: 'good', text: 'store ' + e.store + ' is back' };
      case 'region-new': return { tag: 'region', cls: '', text: 'region ' + e.region + ' appeared' };
      case 'split': return { tag: 'split', cls: '', text: 'region ' + e.left + ' split at ' + JSON.stringify(e.splitKey) + ': new region ' + e.right };
      case 'snapshot': return { tag: 'snapshot', cls: '', text: 'region ' + e.regionId + ': snapshot at index ' + e.index + ' (' + num(e.bytes) + ' bytes, ' + fixed(e.durationMs, 1) + ' ms)' };
      case 'snapshot-installed': return { tag: 'snapshot', cls: '', text: 'region ' + e.regionId + ': installed the leader snapshot at index ' + e.index };
      default: return null;
    }
  }
  function renderEvents() {
    var list = [];
    if (state.cluster) state.cluster.events.forEach(function (e) { list.push(e); });
    state.localEvents.forEach(function (e) { list.push(e); });
    list.sort(function (a, b) { return b.atMs - a.atMs; });
    var html = '';
    var self = document.body.getAttribute('data-store');
    list.slice(0, 60).forEach(function (e) {
      var d = describe(e);
      if (!d) return;
      var local = e.type === 'split' || e.type === 'snapshot' || e.type === 'snapshot-installed';
      html += '<li data-event-type="' + esc(e.type) + '"><time>' + clock(e.atMs) + '</time><span class="tag ' + d.cls + '">' + esc(d.tag) + '</span><span>' + (local ? '<span class="muted">' + esc(self) + ':</span> ' : '') + esc(d.text) + '</span></li>';
    });
    $('event-log').innerHTML = html || '<li class="muted">no events yet</li>';
  }

  // Local events worth a line (the cluster view reports elections for every store).
  function keepLocal(e) { return e.type === 'split' || e.type === 'snapshot' || e.type === 'snapshot-installed'; }

  function setConn(up, text) {
    var el = $('conn-state');
    el.className = 'conn ' + (up ? 'up' : 'down');
    el.textContent = text;
    el.setAttribute('data-state', up ? 'live' : text);
  }

  function getJson(path) {
    return fetch(path, { cache: 'no-store' }).then(function (r) { if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); });
  }
  function poll() {
    return Promise.all([getJson('api/status'), getJson('api/cluster')]).then(function (v) {
      setConn(true, 'polling');
      onView(v[0], v[1]);
    }).catch(function () { setConn(false, 'unreachable'); });
  }

  getJson('api/status').then(function (s) {
    state.localEvents = (s.events || []).filter(keepLocal);
    onView(s, null);
  }).catch(function () {});

  if (window.EventSource) {
    var es = new EventSource('api/events');
    es.addEventListener('open', function () { setConn(true, 'live'); });
    es.addEventListener('error', function () { setConn(false, 'reconnecting'); });
    es.addEventListener('status', function (ev) {
      var p = JSON.parse(ev.data);
      setConn(true, 'live');
      onView(p.status, p.cluster);
    });
    es.addEventListener('store', function (ev) {
      var e = JSON.parse(ev.data);
      if (!keepLocal(e)) return;
      state.localEvents.push(e);
      if (state.localEvents.length > 100) state.localEvents.splice(0, state.localEvents.length - 100);
      renderEvents();
    });
  }
  // When the stream is silent (no EventSource, a proxy buffering it), poll instead.
  setInterval(function () { if (Date.now() - state.lastTick > 3000) poll(); }, 1000);
})();
`;
