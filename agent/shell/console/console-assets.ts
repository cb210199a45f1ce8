/**
 * The console's own style sheet and script, served by the agent
 * (`/admin/assets/console.css`, `/admin/assets/console.js`; no CDN, no
 * external fonts). Kept as strings so the compiled agent needs no asset copy
 * step. The script only does what htmx does not: the live event stream
 * (Server-Sent Events on the session cookie), running "elapsed" counters,
 * table search and sort, and reading a chosen directory file into the form.
 */

/** The style sheet: system fonts, readable on a laptop and a tablet. */
export const CONSOLE_CSS = `
:root { --fg:#1b1f24; --muted:#57606a; --bg:#fff; --line:#d0d7de; --accent:#0a58ca; --ok:#1a7f37; --warn:#9a6700; --bad:#cf222e; --soft:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
:focus-visible { outline: 3px solid #ffbf47; outline-offset: 1px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:6px; z-index:9; }
header.top { display:flex; flex-wrap:wrap; align-items:center; gap:8px 20px; padding:10px 20px; background:#0d1117; color:#fff; }
header.top .brand { font-weight:700; letter-spacing:.02em; }
header.top nav ul { display:flex; flex-wrap:wrap; gap:4px; list-style:none; margin:0; padding:0; }
header.top nav a { color:#e6edf3; text-decoration:none; padding:6px 10px; border-radius:6px; display:inline-block; }
header.top nav a[aria-current="page"] { background:#30363d; color:#fff; }
header.top .who { margin-left:auto; display:flex; align-items:center; gap:10px; font-size:14px; }
header.top .who button { background:transparent; color:#e6edf3; border:1px solid #6e7681; }
main { padding:16px 20px 40px; max-width:1400px; }
h1 { font-size:22px; margin:4px 0 14px; } h2 { font-size:17px; margin:22px 0 8px; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap:12px; }
.card { border:1px solid var(--line); border-radius:8px; padding:12px 14px; background:var(--soft); color:inherit; text-decoration:none; display:block; }
a.card:hover { border-color:var(--accent); }
.card .n { font-size:28px; font-weight:700; } .card .l { color:var(--muted); }
.table-wrap { overflow-x:auto; border:1px solid var(--line); border-radius:8px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--soft); font-weight:600; white-space:nowrap; }
th button.sort { all:unset; cursor:pointer; } th button.sort:focus-visible { outline:3px solid #ffbf47; }
th[aria-sort="ascending"] button.sort::after { content:" \\25B2"; } th[aria-sort="descending"] button.sort::after { content:" \\25BC"; }
tr:last-child td { border-bottom:0; }
td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:13px; }
.state { display:inline-block; padding:1px 8px; border-radius:10px; font-size:13px; font-weight:600; white-space:nowrap; }
.state-synced { background:#dafbe1; color:var(--ok); } .state-pending { background:#fff8c5; color:var(--warn); }
.state-unreachable { background:#ffebe9; color:var(--bad); } .state-never { background:#eaeef2; color:var(--muted); }
.muted { color:var(--muted); }
button, .button { font:inherit; padding:5px 11px; border-radius:6px; border:1px solid var(--line); background:#fff; color:var(--fg); cursor:pointer; text-decoration:none; display:inline-block; }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.danger { border-color:var(--bad); color:var(--bad); }
.actions { display:flex; flex-wrap:wrap; gap:6px; } .actions form { margin:0; }
#phones .actions { min-width:150px; } #phones .actions button, #phones .actions .button { padding:3px 8px; font-size:13px; white-space:nowrap; }
#phones td:first-child, #phones td.mono { white-space:nowrap; }
form.inline { display:inline-flex; flex-wrap:wrap; gap:6px; align-items:center; margin:0; }
label { font-weight:600; } input, select, textarea { font:inherit; padding:5px 8px; border:1px solid #8c959f; border-radius:6px; max-width:100%; }
textarea { width:100%; min-height:220px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:13px; }
.toolbar { display:flex; flex-wrap:wrap; gap:10px; align-items:end; margin:0 0 12px; }
.toolbar > div { display:flex; flex-direction:column; gap:3px; }
.flash:empty { display:none; }
.notice { border:1px solid var(--line); border-left:5px solid var(--accent); padding:10px 14px; border-radius:6px; margin:0 0 14px; background:var(--soft); }
.notice.error { border-left-color:var(--bad); background:#fff5f5; } .notice.ok { border-left-color:var(--ok); background:#f3fff5; }
.notice h2 { margin:0 0 4px; font-size:16px; }
pre.offending { background:#0d1117; color:#e6edf3; padding:8px 10px; border-radius:6px; overflow-x:auto; }
.diff ul { margin:4px 0 10px; } .added { color:var(--ok); } .removed { color:var(--bad); } .updated { color:var(--warn); }
.login { max-width:360px; margin:10vh auto; border:1px solid var(--line); border-radius:10px; padding:22px; }
.login div { display:flex; flex-direction:column; gap:4px; margin-bottom:12px; }
.live { font-size:13px; color:#9ea7b3; } .live.on::before { content:"\\25CF "; color:#3fb950; }
details { border:1px solid var(--line); border-radius:6px; padding:6px 10px; margin:6px 0; } details pre { overflow-x:auto; font-size:12px; }
dl.facts { display:grid; grid-template-columns: max-content 1fr; gap:4px 16px; } dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
@media (max-width: 800px) { main { padding:12px; } header.top .who { margin-left:0; } }
`;

/** The script (no framework; htmx does requests and swaps). */
export const CONSOLE_JS = `
(function () {
  'use strict';
  function fmtElapsed(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60); if (m < 60) return m + ' min ' + (s % 60) + ' s';
    var h = Math.floor(m / 60); if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d';
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-since]').forEach(function (el) {
      var t = Number(el.getAttribute('data-since'));
      if (t > 0) el.textContent = fmtElapsed(now - t) + (el.hasAttribute('data-ago') ? ' ago' : '');
    });
  }
  setInterval(tick, 1000);

  function applyFilter(input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    if (!table) return;
    var q = input.value.trim().toLowerCase();
    var shown = 0;
    table.querySelectorAll('tbody tr').forEach(function (tr) {
      var hit = q === '' || tr.textContent.toLowerCase().indexOf(q) >= 0;
      tr.hidden = !hit; if (hit) shown++;
    });
    var count = document.querySelector('[data-count-for="' + table.id + '"]');
    if (count) count.textContent = shown + ' shown';
  }
  function sortBy(th) {
    var table = th.closest('table'); var tbody = table.tBodies[0];
    var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
    th.parentNode.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir);
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[idx], y = b.cells[idx];
      var kx = x ? (x.getAttribute('data-key') || x.textContent.trim()) : '';
      var ky = y ? (y.getAttribute('data-key') || y.textContent.trim()) : '';
      var c = kx.localeCompare(ky, undefined, { numeric: true, sensitivity: 'base' });
      return dir === 'ascending' ? c : -c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  document.addEventListener('input', function (e) { if (e.target.matches('[data-filter]')) applyFilter(e.target); });
  document.addEventListener('click', function (e) {
    var b = e.target.closest('th button.sort'); if (b) sortBy(b.closest('th'));
  });
  document.addEventListener('change', function (e) {
    var f = e.target;
    if (!f.matches('input[type=file][data-into]') || !f.files || !f.files[0]) return;
    var area = document.getElementById(f.getAttribute('data-into'));
    var name = document.getElementById(f.getAttribute('data-name-into'));
    var reader = new FileReader();
    reader.onload = function () { area.value = String(reader.result); if (name) name.value = f.files[0].name; };
    reader.readAsText(f.files[0]);
  });
  document.addEventListener('htmx:afterSwap', function () {
    document.querySelectorAll('[data-filter]').forEach(applyFilter); tick();
  });

  // Live updates: Server-Sent Events from /admin/events (the session cookie signs it).
  var pending = {}; var timer = null;
  function flush() {
    timer = null;
    Object.keys(pending).forEach(function (mac) {
      var row = document.getElementById('phone-' + mac);
      if (row && window.htmx) htmx.ajax('GET', row.getAttribute('data-row-url'), { target: row, swap: 'outerHTML' });
    });
    pending = {};
    document.querySelectorAll('[data-live-refresh]').forEach(function (el) {
      if (window.htmx) htmx.ajax('GET', el.getAttribute('data-live-refresh'), { target: el, swap: 'innerHTML' });
    });
  }
  function connect() {
    var live = document.getElementById('live');
    if (!live || !window.EventSource) return;
    var es = new EventSource(live.getAttribute('data-events'));
    es.onopen = function () { live.classList.add('on'); live.textContent = 'live'; };
    es.onerror = function () { live.classList.remove('on'); live.textContent = 'reconnecting'; };
    es.addEventListener('audit', function (m) {
      var e; try { e = JSON.parse(m.data); } catch (_) { return; }
      if (e.phone) pending[e.phone] = true;
      document.dispatchEvent(new CustomEvent('console:event', { detail: e }));
      if (!timer) timer = setTimeout(flush, 150);
    });
    es.addEventListener('signed-out', function () { es.close(); location.href = live.getAttribute('data-login'); });
  }
  document.addEventListener('DOMContentLoaded', function () { connect(); tick(); document.querySelectorAll('[data-filter]').forEach(applyFilter); });
})();
`;
