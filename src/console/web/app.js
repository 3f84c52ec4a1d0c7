// SPDX-License-Identifier: GPL-2.0-or-later
// The console's page: plain DOM, no framework, no CDN. Every figure comes
// from the console's JSON API (docs/console-api.md, docs/console.md) with
// the session cookie; every change carries the session's CSRF token.
// Data is only ever written with textContent, never parsed as HTML.
'use strict';
(() => {
  const POLL_MS = 1000;
  const $ = (id) => document.getElementById(id);
  let session = null;     // {account, user, csrf_token, licenses}
  let busy = false;       // a refresh is in flight
  let lastKey = '';       // what was last rendered, to skip identical redraws

  // ---- formatting ----
  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  function bytes(n) {
    if (n === null || n === undefined || isNaN(n)) return '-';
    let i = 0;
    while (Math.abs(n) >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(Math.round(n))) + ' ' + UNITS[i];
  }
  const rate = (n) => (n === null || n === undefined) ? '-' : bytes(n) + '/s';
  function duration(s) {
    if (s === null || s === undefined || isNaN(s)) return '-';
    s = Math.max(0, s);
    if (s < 10) return s.toFixed(1) + ' s';
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }
  const pct = (p) => (p === null || p === undefined) ? '-' : p.toFixed(1) + ' %';
  const when = (t) => t ? new Date(t * 1000).toLocaleString() : '-';
  function ago(t) {
    if (!t) return '-';
    const d = Date.now() / 1000 - t;
    return d < 1.5 ? 'just now' : duration(d) + ' ago';
  }
  function stateClass(s) {
    if (['CHANGE_COPY'].includes(s)) return 'state ok';
    if (['PAUSED', 'BACKLOG', 'RESCAN', 'REGISTERED', 'DEREGISTERED'].includes(s)) return 'state warn';
    if (['STALLED', 'NOT_READY', 'DISCONNECTED'].includes(s)) return 'state bad';
    return 'state';
  }

  // ---- DOM helpers ----
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'className') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  function fill(node, ...kids) { node.replaceChildren(...kids.filter((k) => k !== null && k !== undefined)); }
  function figures(dl, pairs) {
    fill(dl, ...pairs.flatMap(([k, v, id]) => [el('dt', { text: k }), el('dd', { text: v, id: id })]));
  }
  // the staging server the console placed the machine on, and a drain's
  // or pin's move in progress (docs/staging-placement.md)
  function placement(m) {
    const p = m.staging;
    if (!p) return 'none placed (the agent\'s configured address)';
    return p.server + (p.pinned ? ' (pinned)' : '') + (p.moving_from ? ', moving from ' + p.moving_from : '');
  }
  function progressBar(label, p) {
    // without a figure the bar is empty, not an animated indeterminate one
    return el('progress', { max: '100', value: p === null || p === undefined ? '0' : String(p), 'aria-label': label });
  }
  function show(view) {
    for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
    for (const a of document.querySelectorAll('nav a')) a.removeAttribute('aria-current');
    const cur = view === 'tokens' ? 'nav-tokens' : (view === 'signin' ? null : 'nav-machines');
    if (cur) $(cur).setAttribute('aria-current', 'page');
  }

  // ---- the API ----
  async function api(method, path, body) {
    const headers = { 'X-Requested-With': 'livemig-web' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf_token;
    let r;
    try {
      r = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      $('live').textContent = 'the console does not answer: ' + e.message;
      return { status: 0, data: null };
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.status === 401 && path !== '/api/v1/session') signedOut('Your session ended: sign in again.');
    return { status: r.status, data };
  }
  const errText = (r) => (r.data && r.data.error) ? r.data.error : 'the console answered ' + r.status;
  // The Launch section (launch.js) with the helpers it shares; after an
  // action it asks for a redraw and the license count (finalize frees one).
  const launch = window.livemigLaunch({ $, el, fill, api, when, errText, changed: async () => {
    const s = await api('GET', '/api/v1/session');
    if (s.status === 200 && session) licenses(s.data.licenses);
    refresh();
  } });

  // ---- session ----
  function signedIn(s) {
    session = s;
    $('who-name').textContent = s.user + '@' + s.account;
    $('nav').hidden = false;
    $('who').hidden = false;
    licenses(s.licenses);
    route();
  }
  function signedOut(msg) {
    session = null;
    launch.reset(true);
    lastKey = '';
    $('nav').hidden = true;
    $('who').hidden = true;
    $('signin-error').textContent = msg || '';
    show('signin');
  }
  function licenses(l) {
    if (l) $('licenses').textContent = 'Licenses: ' + l.in_use + ' of ' + l.total + ' in use';
  }
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('signin-error').textContent = '';
    $('si-submit').disabled = true;
    const r = await api('POST', '/api/v1/session', {
      account: $('si-account').value.trim(), user: $('si-user').value.trim(), password: $('si-password').value });
    $('si-submit').disabled = false;
    $('si-password').value = '';
    if (r.status === 200) signedIn(r.data);
    else $('signin-error').textContent = errText(r);
  });
  $('signout').addEventListener('click', async () => {
    await api('DELETE', '/api/v1/session');
    location.hash = '#/';
    signedOut('Signed out.');
  });

  // ---- machines list ----
  function identity(m) {
    const i = m.identity || {};
    const src = i.source === 'mac' ? 'MAC' : (i.source === 'metadata' ? 'metadata server' : i.source);
    return src + ' ' + (i.value || '');
  }
  function reasonOf(m) {
    return m.disconnected_reason || (m.progress && m.progress.reason) || '';
  }
  // The list at fleet size: the last answer is kept (fleet), and what is
  // shown is recomputed from it and the view's settings (search, state,
  // sort) without asking the console again. One render builds every row in
  // a fragment and swaps it in at once.
  let fleet = null;        // the last GET /api/v1/machines answer
  const view = { q: '', state: '', lc: '', sort: 'hostname', dir: 1 };
  const STATES = ['INITIAL_MIRROR', 'CHANGE_COPY', 'BACKLOG', 'RESCAN', 'PAUSED', 'STALLED', 'NOT_READY',
    'REGISTERED', 'DISCONNECTED', 'DEREGISTERED'];
  // the launch lifecycle's states in the order a migration goes through them
  const LC_STATES = ['READY_FOR_TEST', 'TESTING', 'READY_FOR_CUTOVER', 'CUTTING_OVER', 'CUTOVER', 'FINALIZED'];
  function lcClass(s) {
    if (s === 'CUTOVER') return 'state ok';
    if (s === 'TESTING' || s === 'CUTTING_OVER') return 'state warn';
    return 'state';
  }
  const num = (v) => (typeof v === 'number' && !isNaN(v)) ? v : null;
  const SORT_KEYS = {
    hostname: (m) => m.hostname,
    os: (m) => (m.inventory_summary || {}).os || null,
    identity: (m) => identity(m),
    agent: (m) => m.agent_version || null,
    state: (m) => m.state,
    percent: (m) => num((m.progress || {}).percent),
    throughput: (m) => num((m.progress || {}).throughput_bps),
    eta: (m) => num((m.progress || {}).eta_seconds),
    lag: (m) => num((m.progress || {}).lag_seconds),
    last_seen: (m) => num(m.last_seen),
    staging: (m) => m.staging ? m.staging.server : null,
    // in lifecycle order, not alphabetical: READY_FOR_TEST first
    lifecycle: (m) => m.lifecycle ? (LC_STATES.includes(m.lifecycle) ? LC_STATES.indexOf(m.lifecycle) : LC_STATES.length) : null,
  };
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  // Ascending or descending by the column; machines without a figure last
  // either way; ties keep machine id order (the sort is stable).
  function sorted(ms) {
    const key = SORT_KEYS[view.sort] || SORT_KEYS.hostname;
    const rows = ms.map((m, i) => ({ m, i, k: key(m) }));
    rows.sort((a, b) => {
      const an = a.k === null || a.k === undefined, bn = b.k === null || b.k === undefined;
      if (an || bn) return an === bn ? a.i - b.i : (an ? 1 : -1);
      const c = typeof a.k === 'number' ? a.k - b.k : collator.compare(a.k, b.k);
      return c ? c * view.dir : a.i - b.i;
    });
    return rows.map((r) => r.m);
  }
  function matches(m) {
    if (view.state && m.state !== view.state) return false;
    if (view.lc && m.lifecycle !== view.lc) return false;
    if (!view.q) return true;
    const q = view.q.toLowerCase();
    const inv = m.inventory_summary || {};
    return [m.hostname, m.machine_id, inv.hostname].some((v) => typeof v === 'string' && v.toLowerCase().includes(q));
  }
  function machineRow(m) {
    const p = m.progress || {};
    const inv = m.inventory_summary || {};
    const reason = reasonOf(m);
    const percent = num(p.percent);
    // an idle machine (no pass under way) gets no bar: an empty progress
    // element would be an animated "busy" one
    const bar = percent === null ? el('span', { className: 'muted', 'data-field': 'percent', text: '-' })
      : el('div', { className: 'bar' }, progressBar('Progress of ' + m.hostname, percent),
        el('span', { 'data-field': 'percent', text: pct(percent) }));
    return el('tr', { 'data-machine': m.machine_id },
      el('td', { 'data-label': 'Host name' },
        el('a', { href: '#/machines/' + encodeURIComponent(m.machine_id), text: m.hostname }),
        el('div', { className: 'muted small', text: m.machine_id })),
      el('td', { 'data-label': 'OS', text: inv.os || '-' }),
      el('td', { 'data-label': 'Identity', text: identity(m) }),
      el('td', { 'data-label': 'Agent', text: m.agent_version || '-' }),
      el('td', { 'data-label': 'State' },
        el('span', { className: stateClass(m.state), 'data-field': 'state', text: m.state }),
        reason ? el('div', { className: 'small', 'data-field': 'reason', text: reason }) : null),
      el('td', { 'data-label': 'Progress' }, bar),
      el('td', { 'data-label': 'Throughput', className: 'num', 'data-field': 'throughput', text: rate(num(p.throughput_bps)) }),
      el('td', { 'data-label': 'ETA', className: 'num', 'data-field': 'eta', text: duration(num(p.eta_seconds)) }),
      el('td', { 'data-label': 'Lag', className: 'num', 'data-field': 'lag', text: duration(num(p.lag_seconds)) }),
      el('td', { 'data-label': 'Last seen', className: 'num', title: when(m.last_seen), text: ago(m.last_seen) }),
      el('td', { 'data-label': 'Staging' }, m.staging
        ? el('span', { 'data-field': 'staging', text: m.staging.server }) : '-',
      m.staging && m.staging.moving_from
        ? el('div', { className: 'small', 'data-field': 'moving', text: 'moving from ' + m.staging.moving_from }) : null),
      el('td', { 'data-label': 'Launch' }, m.lifecycle
        ? el('span', { className: lcClass(m.lifecycle), 'data-field': 'lifecycle', text: m.lifecycle }) : '-'));
  }
  function renderCounts(ms) {
    const counts = {};
    for (const m of ms) counts[m.state] = (counts[m.state] || 0) + 1;
    const states = STATES.filter((s) => counts[s]).concat(Object.keys(counts).filter((s) => !STATES.includes(s)).sort());
    fill($('ml-counts'), ...states.map((s) => {
      const b = el('button', { type: 'button', className: 'count ' + stateClass(s), 'data-state': s,
        'aria-pressed': view.state === s ? 'true' : 'false', 'aria-label': `${counts[s]} ${s}: show only these` },
      el('span', { text: s }), ' ', el('strong', { text: String(counts[s]) }));
      b.addEventListener('click', () => setFilter(view.state === s ? '' : s));
      return b;
    }));
    const sel = $('ml-state');
    const want = ['', ...states];
    if (view.state && !want.includes(view.state)) want.push(view.state);
    if ([...sel.options].map((o) => o.value).join() !== want.join()) {
      fill(sel, ...want.map((s) => el('option', { value: s, text: s ? `${s} (${counts[s] || 0})` : 'all states' })));
    } else {
      for (const o of sel.options) if (o.value) o.textContent = `${o.value} (${counts[o.value] || 0})`;
    }
    sel.value = view.state;
    // the launch states present, in lifecycle order, with their counts
    const lcCounts = {};
    for (const m of ms) if (m.lifecycle) lcCounts[m.lifecycle] = (lcCounts[m.lifecycle] || 0) + 1;
    const lcs = LC_STATES.filter((s) => lcCounts[s]).concat(Object.keys(lcCounts).filter((s) => !LC_STATES.includes(s)).sort());
    if (view.lc && !lcs.includes(view.lc)) lcs.push(view.lc);
    const lsel = $('ml-lifecycle');
    if ([...lsel.options].map((o) => o.value).join() !== ['', ...lcs].join()) {
      fill(lsel, el('option', { value: '', text: 'all launch states' }),
        ...lcs.map((s) => el('option', { value: s, text: `${s} (${lcCounts[s] || 0})` })));
    } else {
      for (const o of lsel.options) if (o.value) o.textContent = `${o.value} (${lcCounts[o.value] || 0})`;
    }
    lsel.value = view.lc;
  }
  function renderHeaders() {
    for (const th of document.querySelectorAll('#machines th[data-sort]')) {
      const on = th.dataset.sort === view.sort;
      th.setAttribute('aria-sort', on ? (view.dir > 0 ? 'ascending' : 'descending') : 'none');
      const b = th.querySelector('button');
      if (b) b.dataset.dir = on ? (view.dir > 0 ? 'asc' : 'desc') : '';
    }
    // the same sort as a select and a button: at phone width the table
    // has no header row to click
    $('ml-sort').value = view.sort;
    $('ml-dir').textContent = view.dir > 0 ? 'Ascending \u25B2' : 'Descending \u25BC';
    $('ml-dir').setAttribute('aria-label', 'Sort order: ' + (view.dir > 0 ? 'ascending' : 'descending') + ' (click to reverse)');
  }
  function renderList() {
    if (!fleet) return;
    const ms = fleet.machines;
    $('machines-summary').textContent = ms.length + ' machine' + (ms.length === 1 ? '' : 's') +
      ' in account ' + fleet.account + '; licenses: ' + fleet.licenses.in_use + ' of ' + fleet.licenses.total + ' in use';
    $('machines-empty').hidden = ms.length > 0;
    renderCounts(ms);
    renderHeaders();
    const shown = sorted(ms.filter(matches));
    $('ml-shown').textContent = ms.length && shown.length !== ms.length
      ? `${shown.length} of ${ms.length} shown` + (shown.length ? '' : ': nothing matches the search or the state') : '';
    const frag = document.createDocumentFragment();
    for (const m of shown) frag.append(machineRow(m));
    $('machines-body').replaceChildren(frag);
  }
  function setFilter(state) {
    view.state = state;
    renderList();
  }
  // The headers become buttons (a screen reader says "sort by …"); a second
  // click on the same column reverses it.
  fill($('ml-sort'), ...[...document.querySelectorAll('#machines th[data-sort]')].map((th) =>
    el('option', { value: th.dataset.sort, text: th.textContent })));
  $('ml-sort').addEventListener('change', () => { view.sort = $('ml-sort').value; view.dir = 1; renderList(); });
  $('ml-dir').addEventListener('click', () => { view.dir = -view.dir; renderList(); });
  for (const th of document.querySelectorAll('#machines th[data-sort]')) {
    const b = el('button', { type: 'button', className: 'sort', text: th.textContent });
    b.addEventListener('click', () => {
      if (view.sort === th.dataset.sort) view.dir = -view.dir;
      else { view.sort = th.dataset.sort; view.dir = 1; }
      renderList();
    });
    fill(th, b);
  }
  $('ml-search').addEventListener('input', () => { view.q = $('ml-search').value.trim(); renderList(); });
  $('ml-state').addEventListener('change', () => setFilter($('ml-state').value));
  $('ml-lifecycle').addEventListener('change', () => { view.lc = $('ml-lifecycle').value; renderList(); });
  async function refreshList() {
    const r = await api('GET', '/api/v1/machines');
    if (r.status !== 200) return;
    licenses(r.data.licenses);
    const key = JSON.stringify(r.data) + Math.floor(Date.now() / 5000);
    if (key === lastKey) return;
    lastKey = key;
    fleet = r.data;
    renderList();
  }

  // ---- one machine ----
  let current = null;   // the machine shown
  // Reports further apart than three heartbeat intervals mean the agent was
  // not heard from: the line stops there and starts again, instead of a
  // straight line across the silence.
  function segments(pts, interval) {
    const gap = 3 * Math.max(1, interval || 10);
    const segs = [];
    let cur = [];
    for (const p of pts) {
      if (cur.length && p.t - cur[cur.length - 1].t > gap) { segs.push(cur); cur = []; }
      cur.push(p);
    }
    if (cur.length) segs.push(cur);
    return segs;
  }
  function chart(series, interval) {
    const box = $('m-chart');
    const pts = series.filter((s) => typeof s.throughput_bps === 'number');
    const ns = 'http://www.w3.org/2000/svg';
    const W = 800, H = 200, L = 70, B = 22, T = 8;
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('role', 'img');
    if (pts.length < 2) {
      svg.setAttribute('aria-label', 'Throughput chart: not enough reports yet');
      const t = document.createElementNS(ns, 'text');
      t.setAttribute('x', L); t.setAttribute('y', H / 2); t.textContent = 'waiting for reports';
      svg.append(t);
      fill(box, svg);
      return;
    }
    const t0 = pts[0].t, t1 = pts[pts.length - 1].t || t0 + 1;
    const max = Math.max(1, ...pts.map((p) => p.throughput_bps));
    const x = (t) => L + (W - L - 4) * (t1 > t0 ? (t - t0) / (t1 - t0) : 1);
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const mk = (tag, a, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(a)) e.setAttribute(k, v);
      if (text) e.textContent = text;
      svg.append(e);
    };
    mk('line', { class: 'axis', x1: L, y1: H - B, x2: W, y2: H - B });
    mk('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B });
    const segs = segments(pts, interval);
    for (const seg of segs) {
      const a = seg[0].t, b = seg[seg.length - 1].t;
      const span = { 'data-from': String(a), 'data-to': String(b) };
      if (seg.length === 1) {
        mk('circle', { class: 'dot', cx: x(a).toFixed(1), cy: y(seg[0].throughput_bps).toFixed(1), r: 2.5, ...span });
        continue;
      }
      const line = seg.map((p) => `${x(p.t).toFixed(1)},${y(p.throughput_bps).toFixed(1)}`).join(' ');
      mk('polygon', { class: 'area', points: `${x(a).toFixed(1)},${H - B} ${line} ${x(b).toFixed(1)},${H - B}` });
      mk('polyline', { class: 'line', points: line, ...span });
    }
    mk('text', { x: 2, y: T + 10 }, rate(max));
    mk('text', { x: 2, y: H - B }, '0');
    mk('text', { x: L, y: H - 4 }, new Date(t0 * 1000).toLocaleTimeString());
    mk('text', { x: W - 70, y: H - 4 }, new Date(t1 * 1000).toLocaleTimeString());
    const last = pts[pts.length - 1].throughput_bps;
    const gaps = segs.length - 1;
    svg.setAttribute('aria-label', `Throughput over the last ${pts.length} reports: now ${rate(last)}, peak ${rate(max)}` +
      (gaps ? `; ${gaps} gap${gaps === 1 ? '' : 's'} without reports` : ''));
    fill(box, svg);
  }
  function requestText(m) {
    const q = m.replication_request;
    if (!q) return '';
    const paused = !!(m.status && m.status.paused);
    const done = (q.state === 'paused') === paused;
    const what = q.state === 'paused' ? 'Pause' : 'Resume';
    return `${what} asked by ${q.requested_by} at ${when(q.requested_at)}` +
      (done ? '' : ': waiting for the agent\'s next report');
  }
  function renderMachine(m, tl) {
    current = m;
    const s = m.status || {};
    const p = m.progress || {};
    $('m-title').textContent = m.hostname;
    $('m-state').textContent = m.state;
    $('m-state').className = stateClass(m.state);
    $('m-reason').textContent = reasonOf(m);
    const paused = !!s.paused;
    $('m-pause').disabled = m.state === 'DEREGISTERED' || paused;
    $('m-resume').disabled = m.state === 'DEREGISTERED' || !paused;
    $('m-remove').disabled = m.state === 'DEREGISTERED';
    $('m-request').textContent = requestText(m);
    figures($('m-figures'), [
      ['State', m.state + (m.reported_state && m.reported_state !== m.state ? ' (agent last said ' + m.reported_state + ')' : ''), 'f-state'],
      ['Progress', `${bytes(p.bytes_done)} of ${bytes(p.bytes_total)} (${pct(p.percent)})`, 'f-progress'],
      ['Throughput', rate(p.throughput_bps), 'f-throughput'],
      ['ETA', duration(p.eta_seconds), 'f-eta'],
      ['Backlog', bytes(p.backlog_bytes), 'f-backlog'],
      ['Lag', duration(p.lag_seconds), 'f-lag'],
      ['Last consistent point', s.last_consistent_ns ? new Date(s.last_consistent_ns / 1e6).toLocaleString() : 'none yet', 'f-consistent'],
      ['Change-copy rounds', s.rounds === undefined ? '-' : String(s.rounds), 'f-rounds'],
      ['Staging', s.staging ? (s.staging.connected ? 'connected to ' : 'not connected to ') + s.staging.address +
        (s.staging.last_error ? ': ' + s.staging.last_error : '') : '-', 'f-staging'],
      ['Staging server', placement(m), 'f-placement'],
      ['Last report', ago(m.status_received_at) + ' (' + when(m.status_received_at) + ')', 'f-received'],
      ['Agent version', m.agent_version || '-', 'f-agent'],
      ['Identity', identity(m), 'f-identity'],
      ['Registered', when(m.registered_at), 'f-registered'],
    ]);
    $('f-received').setAttribute('data-received-at', String(m.status_received_at || 0));
    const disks = s.disks || [];
    fill($('m-disks'), ...(disks.length ? disks.map((d) => el('div', { className: 'disk', 'data-disk': d.name },
      el('div', {}, el('span', { className: 'name', text: d.name }), ' ', el('span', { className: 'muted', text: d.path || '' }),
        ' ', el('span', { className: stateClass(d.state), text: d.state })),
      el('div', { className: 'bar' }, progressBar('Progress of disk ' + d.name, d.percent),
        el('span', { text: pct(d.percent) })),
      el('div', { className: 'small muted', text: `${bytes(d.bytes_done)} of ${bytes(d.bytes_total)} done; ` +
        `backlog ${bytes(d.backlog_bytes)}; ${rate(d.throughput_bps)}; ETA ${duration(d.eta_seconds)}` })))
      : [el('p', { className: 'muted', text: 'No report from the agent yet.' })]));
    const inv = m.inventory || {};
    const hw = inv.hardware || {};
    const os = inv.os || {};
    figures($('m-inventory'), [
      ['Host name', inv.hostname || m.hostname],
      ['Machine id', m.machine_id],
      ['Memory', bytes(inv.memory_bytes)],
      ['Cores', inv.cores === undefined ? '-' : String(inv.cores)],
      ['CPU', inv.cpu_model || '-'],
      ['Hardware', [hw.vendor, hw.product, hw.version].filter(Boolean).join(' ') || '-'],
      ['OS', os.pretty_name || os.name || '-'],
      ['Kernel', inv.kernel ? (inv.kernel.release || '') + ' ' + (inv.kernel.machine || '') : '-'],
    ]);
    fill($('m-inv-disks'), ...(inv.disks || []).map((d) => el('li', {},
      el('strong', { text: d.device || d.name }), ` ${bytes(d.size)}` + (d.model ? ' ' + d.model : '') +
      (d.root ? ' (root disk)' : ''))));
    fill($('m-inv-nics'), ...(inv.nics || []).map((n) => el('li', {},
      el('strong', { text: n.name }), ' ' + (n.permanent_mac || n.mac || '') + ' ' +
      (n.addresses || []).map((a) => a.address + '/' + a.prefixlen).join(', '))));
    if (tl) {
      chart(tl.series || [], tl.heartbeat_interval);
      fill($('m-events'), ...(tl.events || []).map((e) => el('li', { className: e.level },
        el('time', { datetime: new Date(e.t * 1000).toISOString(), text: new Date(e.t * 1000).toLocaleTimeString() }),
        ' ' + e.text)));
    }
  }
  function renderJobs(js) {
    const list = (js && js.jobs) || [];
    $('m-jobs-empty').hidden = !!list.length;
    fill($('m-jobs'), ...list.map((j) => {
      const last = j.log && j.log.length ? j.log[j.log.length - 1].line : '';
      const end = j.ended ? ', ended ' + when(j.ended) : '';
      return el('li', { 'data-job': String(j.id), className: j.state === 'failed' ? 'error' : null },
        el('strong', { text: `#${j.id} ${j.kind}` }), ' ',
        el('span', { 'data-field': 'job-state', text: j.state }),
        ` (by ${j.owner}, asked ${when(j.created)}${end}${j.staging ? ', on ' + j.staging : ''})`,
        j.error ? el('div', { className: 'small', text: j.error }) : (last ? el('div', { className: 'small muted', text: last }) : null));
    }));
  }
  // The machine's audit log (GET /api/v1/machines/ID/audit): who changed
  // what, when and from where, newest first; redrawn only when it changed.
  const AUDIT_ROWS = 50;
  let auditKey = '';
  function auditDetails(r) {
    const d = Object.entries(r.detail || {}).filter(([, v]) => v !== null)
      .map(([k, v]) => k.replace(/_/g, ' ') + ' ' + (typeof v === 'object' ? JSON.stringify(v) : String(v)));
    return [r.target].concat(d).filter(Boolean).join(', ');
  }
  function renderAudit(a) {
    const list = (a && a.records) || [];
    const key = JSON.stringify(list);
    if (key === auditKey) return;
    auditKey = key;
    $('m-audit').hidden = !list.length;
    $('m-audit-empty').hidden = !!list.length;
    $('m-audit-more').hidden = !a.next_cursor;
    fill($('m-audit-rows'), ...list.map((r) => el('tr', { 'data-audit': String(r.id), 'data-action': r.action },
      el('td', { 'data-label': 'When' }, el('time', { datetime: new Date(r.at * 1000).toISOString(), text: when(r.at) })),
      el('td', { 'data-label': 'Who', 'data-field': 'who', text: r.actor + (r.role ? ' (' + r.role + ')' : '') }),
      el('td', { 'data-label': 'From', 'data-field': 'from', text: r.from }),
      el('td', { 'data-label': 'Action', 'data-field': 'action' }, el('code', { text: r.action })),
      el('td', { 'data-label': 'Details', 'data-field': 'details', className: 'small', text: auditDetails(r) }))));
  }
  async function refreshMachine(id) {
    const path = '/api/v1/machines/' + encodeURIComponent(id);
    const [r, t, pts, js, au] = await Promise.all([api('GET', path + '?history=0'), api('GET', path + '/timeline?points=120'),
      api('GET', path + '/points'), api('GET', path + '/jobs'), api('GET', path + '/audit?limit=' + AUDIT_ROWS)]);
    if (r.status === 404) {
      $('notfound-text').textContent = errText(r);
      show('notfound');
      return;
    }
    if (r.status !== 200) return;
    renderMachine(r.data, t.status === 200 ? t.data : null);
    if (js.status === 200) renderJobs(js.data);
    if (au.status === 200) renderAudit(au.data);
    await launch.refresh(session, r.data, pts.status === 200 ? pts.data : null);
  }
  async function ask(state) {
    if (!current) return;
    $('m-error').textContent = '';
    const r = await api('POST', '/api/v1/machines/' + encodeURIComponent(current.machine_id) + '/replication', { state });
    if (r.status !== 202) $('m-error').textContent = errText(r);
    else { current.replication_request = r.data.replication_request; $('m-request').textContent = requestText(current); }
  }
  $('m-pause').addEventListener('click', () => ask('paused'));
  $('m-resume').addEventListener('click', () => ask('running'));

  // Removal asks first (a modal dialog naming the machine and what follows);
  // DELETE /api/v1/machines/ID frees the license, the console stops trusting
  // the certificate and tells the agent at its next heartbeat.
  $('m-remove').addEventListener('click', () => {
    if (!current) return;
    $('rm-name').textContent = current.hostname + ' (' + current.machine_id + ')';
    $('rm-error').textContent = '';
    $('rm-confirm').disabled = false;
    $('remove-dialog').showModal();
  });
  $('rm-cancel').addEventListener('click', () => $('remove-dialog').close());
  $('rm-confirm').addEventListener('click', async () => {
    if (!current) return;
    const m = current;
    $('rm-confirm').disabled = true;
    const r = await api('DELETE', '/api/v1/machines/' + encodeURIComponent(m.machine_id));
    $('rm-confirm').disabled = false;
    if (r.status !== 200) { $('rm-error').textContent = errText(r); return; }
    $('remove-dialog').close();
    licenses(r.data.licenses);
    $('machines-notice').textContent = `Removed ${m.hostname} (${m.machine_id}): its license is free ` +
      `(${r.data.licenses.in_use} of ${r.data.licenses.total} in use); its agent stops at its next heartbeat.`;
    location.hash = '#/';
  });

  // ---- tokens ----
  // The packages read their settings from install.conf.d and the token from
  // /etc/livemig/token (docs/install.md): the token never appears on a
  // command line, where other users could see it in ps.
  let caPem = '';   // the console's CA certificate (GET /api/v1/ca/console.pem)
  function commands(token) {
    const ca = '/etc/livemig/console-ca.pem';
    const caWrite = caPem ? [`sudo tee ${ca} >/dev/null <<'EOF'`, caPem.trimEnd(), 'EOF']
      : [`# the console's CA certificate in ${ca} (mode 0644): see "The console's CA certificate"`];
    const settings = [
      'sudo install -d /etc/livemig/install.conf.d',
      ...caWrite,
      "sudo tee /etc/livemig/install.conf.d/50-console.conf >/dev/null <<'EOF'",
      `console_url = ${location.origin}`,
      `console_ca = ${ca}`,
      `account = ${session.account}`,
      'EOF',
      `printf '%s\\n' '${token}' | sudo install -m 0600 /dev/stdin /etc/livemig/token`,
    ];
    return [
      ['apt', 'Debian, Ubuntu (apt)', [...settings,
        'sudo DEBIAN_FRONTEND=noninteractive apt-get install -y livemig-agent livemig-cbt-dkms'].join('\n')],
      ['yum', 'RHEL, CentOS, Rocky, Amazon Linux (yum)', [...settings,
        'sudo yum install -y livemig-agent livemig-cbt-dkms'].join('\n')],
      ['ansible', 'Ansible playbook (role livemig_agent from docs/ansible)', [
        '# console-ca.pem (download it on this page) next to the playbook',
        '- hosts: all',
        '  become: true',
        '  roles:',
        '    - role: livemig_agent',
        '      vars:',
        `        livemig_console_url: ${location.origin}`,
        '        livemig_console_ca_src: console-ca.pem',
        `        livemig_settings: { account: ${session.account} }`,
        '        # keep the token in Ansible Vault',
        `        livemig_token: ${token}`,
      ].join('\n')],
    ];
  }
  // The fingerprint an operator compares with the administrator's (what
  // `openssl x509 -noout -fingerprint -sha256` prints).
  async function fingerprint(pem) {
    const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
    return [...h].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  }
  async function loadCa() {
    if (caPem) return;
    let r;
    try {
      r = await fetch('/api/v1/ca/console.pem', { credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      $('ca-status').textContent = 'the console does not answer: ' + e.message;
      return;
    }
    if (!r.ok) { $('ca-status').textContent = 'the console has no CA certificate to offer (' + r.status + ')'; return; }
    caPem = await r.text();
    $('ca-pem').textContent = caPem;
    try { $('ca-fingerprint').textContent = await fingerprint(caPem); } catch (e) { $('ca-fingerprint').textContent = '-'; }
  }
  $('ca-copy').addEventListener('click', () => copy(caPem, $('ca-status')));
  async function copy(text, status) {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = 'Copied';
    } catch (e) {
      status.textContent = 'Select the text and copy it (' + e.message + ')';
    }
  }
  function showNewToken(t) {
    $('new-token').hidden = false;
    $('nt-secret').textContent = t.token;
    fill($('nt-commands'), ...commands(t.token).map(([id, title, text]) => {
      const status = el('span', { className: 'muted small', role: 'status' });
      const btn = el('button', { type: 'button', id: 'copy-' + id, 'aria-label': 'Copy the ' + title + ' command', text: 'Copy' });
      btn.addEventListener('click', () => copy(text, status));
      return el('div', { className: 'cmd' }, el('div', { className: 'cmd-head' }, el('h3', { text: title }),
        el('span', {}, status, ' ', btn)), el('pre', {}, el('code', { id: 'cmd-' + id, text })));
    }));
  }
  async function refreshTokens() {
    const r = await api('GET', '/api/v1/tokens');
    if (r.status !== 200) return;
    const key = JSON.stringify(r.data);
    if (key === lastKey) return;
    lastKey = key;
    fill($('tokens-body'), ...r.data.tokens.map((t) => {
      let action = null;
      if (t.state === 'active') {
        action = el('button', { type: 'button', className: 'secondary', 'aria-label': 'Revoke token ' + t.id, text: 'Revoke' });
        action.addEventListener('click', () => askRevoke(t));
      }
      return el('tr', { 'data-token': String(t.id) },
        el('td', { 'data-label': 'Id', text: String(t.id) }),
        el('td', { 'data-label': 'Label', text: t.label || '-' }),
        el('td', { 'data-label': 'State', 'data-field': 'state' }, el('span', { className: stateClass(t.state === 'active' ? 'CHANGE_COPY' : 'STALLED'), text: t.state })),
        el('td', { 'data-label': 'Uses', text: t.uses + (t.max_uses ? ' of ' + t.max_uses : '') }),
        el('td', { 'data-label': 'Expires', text: t.expires_at ? when(t.expires_at) : 'never' }),
        el('td', { 'data-label': 'Created', text: when(t.created_at) }),
        el('td', { 'data-label': '' }, action));
    }));
  }
  // Revoking asks first, like removing a machine: it cannot be undone.
  let revoking = null;
  function askRevoke(t) {
    revoking = t;
    $('rv-name').textContent = String(t.id) + (t.label ? ' (' + t.label + ')' : '');
    $('rv-error').textContent = '';
    $('rv-confirm').disabled = false;
    $('revoke-dialog').showModal();
  }
  $('rv-cancel').addEventListener('click', () => $('revoke-dialog').close());
  $('rv-confirm').addEventListener('click', async () => {
    if (!revoking) return;
    $('rv-confirm').disabled = true;
    const x = await api('DELETE', '/api/v1/tokens/' + revoking.id);
    $('rv-confirm').disabled = false;
    if (x.status !== 200) { $('rv-error').textContent = errText(x); return; }
    $('revoke-dialog').close();
    revoking = null;
    lastKey = '';
    refreshTokens();
  });
  $('token-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('token-error').textContent = '';
    const body = { label: $('tk-label').value };
    if ($('tk-expires').value) body.expires_in = Number($('tk-expires').value);
    if ($('tk-uses').value) body.max_uses = Number($('tk-uses').value);
    const r = await api('POST', '/api/v1/tokens', body);
    if (r.status !== 201) { $('token-error').textContent = errText(r); return; }
    // the commands write the CA certificate: have it even when the token
    // was asked for before the page's first load of it had ended
    await loadCa();
    showNewToken(r.data);
    lastKey = '';
    refreshTokens();
  });

  // ---- routing and the live loop ----
  function parse() {
    const h = location.hash.replace(/^#/, '');
    let m;
    if ((m = h.match(/^\/machines\/([^/]+)$/))) return { view: 'machine', id: decodeURIComponent(m[1]) };
    if (h === '/tokens') return { view: 'tokens' };
    return { view: 'machines' };
  }
  async function refresh() {
    if (!session || busy) return;
    busy = true;
    try {
      const r = parse();
      if (r.view === 'machine') await refreshMachine(r.id);
      else if (r.view === 'tokens') { await loadCa(); await refreshTokens(); }
      else await refreshList();
      if (session) $('live').textContent = 'Live: updated ' + new Date().toLocaleTimeString();
    } finally {
      busy = false;
    }
  }
  function route() {
    if (!session) return;
    const r = parse();
    lastKey = '';
    auditKey = '';
    current = null;
    launch.reset(false);
    if (r.view !== 'tokens') $('new-token').hidden = true;
    if (r.view !== 'machines') $('machines-notice').textContent = '';
    if ($('remove-dialog').open) $('remove-dialog').close();
    if ($('revoke-dialog').open) $('revoke-dialog').close();
    show(r.view === 'machine' ? 'machine' : r.view);
    refresh();
  }
  window.addEventListener('hashchange', route);
  setInterval(refresh, POLL_MS);
  (async () => {
    const r = await api('GET', '/api/v1/session');
    if (r.status === 200) signedIn(r.data);
    else signedOut('');
  })();
})();
