// SPDX-License-Identifier: GPL-2.0-or-later
// The page at fleet size, in Debian's chromium (playwright-core). Started by
// tests/web/run.sh after tests/web/seed_fleet.py registered 200 machines of
// account fleet through the console's API and had most of them report once:
//   CONSOLE_URL SPKI CHROMIUM ARTIFACTS SERVER_CA FLEET_FILE
// Checks the machines list (render and update time, search, state filter
// and counts, sort, no busy animation when idle, lag on one line) and the
// machine page (gaps in the chart, event colours, RESCAN's reason), and the
// staging server of each machine with a drain in progress. Further
// heartbeats go through the API with each machine's agent secret.
// Each check prints "ok: ..."; the first failure throws and exits 1.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { chromium } from 'playwright-core';
import { fail, sleep, until } from './wait.mjs';

const E = process.env;
const base = E.CONSOLE_URL;
const fleet = JSON.parse(readFileSync(E.FLEET_FILE, 'utf8'));
// The page's target is 1 s from the answer to 200 rendered rows; it is
// printed, not asserted: on a shared, loaded machine a render's wall-clock
// time says more about the machine than about the page. A render that takes
// longer than RENDER_HUNG_MS is a page that hangs, and fails.
const RENDER_TARGET_MS = 1000;
const RENDER_HUNG_MS = 30000;
let passed = 0;
const ok = (msg) => { passed++; console.log('ok: ' + msg); };

// A heartbeat as livemigd sends it (docs/agent-console.md), verified
// against the test CA; a 429 (the console's heartbeat brake) is retried
// after its Retry-After.
function post(path, secret, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(base + path, {
      method: 'POST', ca: readFileSync(E.SERVER_CA),
      headers: { Authorization: 'Bearer ' + secret, 'Content-Type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text, retry: Number(res.headers['retry-after'] || 1) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
async function heartbeat(m, state, { reason = '', rate = 5e6, lag = 2, percent = 100 } = {}) {
  const size = 8 * 2 ** 30;
  const done = Math.round(size * percent / 100);
  const doc = {
    version: '0.1.0', agent_version: '0.1.0', state, reason, tracker: 'scan', paused: state === 'PAUSED',
    staging: { address: '127.0.0.1:7450', connected: true, last_error: '' },
    throughput_bps: rate, lag_seconds: lag,
    disks: [{ name: 'vda', size, state, bytes_done: done, bytes_total: size, backlog_bytes: 0,
      throughput_bps: rate, eta_seconds: rate ? (size - done) / rate : null }],
  };
  for (;;) {
    const r = await post(`/api/v1/machines/${m.machine_id}/status`, m.secret, doc);
    if (r.status === 200) return;
    if (r.status !== 429) fail(`heartbeat of ${m.name}: ${r.status} ${r.text}`);
    await sleep(r.retry * 1000);
  }
}

async function signIn(page, account, user, password) {
  await page.getByLabel('Account').fill(account);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// The list's rows as shown: machine id, state and the sortable figures.
const rows = (page) => page.evaluate(() => [...document.querySelectorAll('#machines-body tr')].map((tr) => ({
  id: tr.dataset.machine,
  host: tr.querySelector('td a').textContent,
  state: tr.querySelector('[data-field=state]').textContent,
  reason: (tr.querySelector('[data-field=reason]') || {}).textContent || '',
  lag: tr.querySelector('[data-field=lag]').textContent,
  throughput: tr.querySelector('[data-field=throughput]').textContent,
})));
// Back from what the page prints ("1.5 s", "3 min", "12.0 MiB/s"); '-' is null.
function seconds(t) {
  const m = /^([\d.]+) (s|min|h|d)$/.exec(t);
  if (!m) return null;
  return Number(m[1]) * { s: 1, min: 60, h: 3600, d: 86400 }[m[2]];
}
function bps(t) {
  const m = /^([\d.]+) (B|KiB|MiB|GiB|TiB|PiB)\/s$/.exec(t);
  if (!m) return null;
  return Number(m[1]) * 1024 ** ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'].indexOf(m[2]);
}
// Ordered by dir (1 or -1), the rows without a figure last.
function ordered(vals, dir) {
  let seenNull = false;
  for (let i = 0; i < vals.length; i++) {
    if (vals[i] === null) { seenNull = true; continue; }
    if (seenNull) return `a figure after a "-" at row ${i}`;
    if (i && vals[i - 1] !== null && (vals[i] - vals[i - 1]) * dir < 0) return `row ${i}: ${vals[i - 1]} then ${vals[i]}`;
  }
  return '';
}

// In the page: the time from the moment the answer of the newest
// GET /api/v1/machines had arrived (Resource Timing's responseEnd) to the
// moment the table held what `want` looks for, style and layout included.
// The network and the console are not timed, only the page's own work.
function watchRenders(page) {
  return page.evaluate(() => {
    performance.setResourceTimingBufferSize(100000);
    window.fleetRenders = [];
    const body = document.getElementById('machines-body');
    new MutationObserver(() => {
      void body.offsetHeight; // layout now, so that it is counted
      window.fleetRenders.push({ t: performance.now(), rows: body.rows.length, text: body.textContent });
    }).observe(body, { childList: true });
  });
}
function renderTime(page, want) {
  return page.evaluate((want) => {
    const r = window.fleetRenders.find((x) => x.rows >= want.rows && (!want.text || x.text.includes(want.text)));
    if (!r) return null;
    const answers = performance.getEntriesByType('resource')
      .filter((e) => /\/api\/v1\/machines$/.test(e.name) && e.responseEnd <= r.t);
    if (!answers.length) return { error: 'no answer before the render' };
    return { ms: r.t - answers[answers.length - 1].responseEnd, rows: r.rows };
  }, want);
}

const browser = await chromium.launch({ executablePath: E.CHROMIUM, args: [`--ignore-certificate-errors-spki-list=${E.SPKI}`] });
const problems = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (/Content Security Policy|Uncaught/.test(m.text())) problems.push(m.text()); });

  // ---- 200 machines: the first render ----
  await page.goto(base + '/');
  await page.getByLabel('Account').waitFor();
  await watchRenders(page);
  await signIn(page, 'fleet', 'carol', 'carol-web-password');
  const first = await until('the list of 200', () => renderTime(page, { rows: 200 }));
  if (first.error) fail(first.error);
  if (first.ms >= RENDER_HUNG_MS) fail(`200 machines took ${first.ms.toFixed(0)} ms to render: the page hangs`);
  ok(`200 machines rendered ${first.ms.toFixed(0)} ms after the console's answer arrived (target ${RENDER_TARGET_MS} ms${first.ms >= RENDER_TARGET_MS ? ': MISSED on this machine at this load' : ''})`);
  await page.screenshot({ path: E.ARTIFACTS + '/fleet.png' });

  // ---- a heartbeat re-renders ----
  const hb = fleet.find((m) => m.state === 'CHANGE_COPY');
  await heartbeat(hb, 'CHANGE_COPY', { rate: 123.4 * 1024 * 1024, lag: 4321 });
  const mark = '123.4 MiB/s';
  const upd = await until('the heartbeat on the page', () => renderTime(page, { rows: 200, text: mark }));
  if (upd.error) fail(upd.error);
  const cell = await page.locator(`tr[data-machine="${hb.machine_id}"] [data-field=throughput]`).textContent();
  if (cell !== mark) fail(`${hb.name}'s throughput shows ${cell}, not ${mark}`);
  if (upd.ms >= RENDER_HUNG_MS) fail(`the update took ${upd.ms.toFixed(0)} ms to render: the page hangs`);
  ok(`a heartbeat of ${hb.name} re-rendered the 200 rows ${upd.ms.toFixed(0)} ms after the answer arrived (target ${RENDER_TARGET_MS} ms${upd.ms >= RENDER_TARGET_MS ? ': MISSED on this machine at this load' : ''})`);

  // ---- counts per state, clickable as filters ----
  const counts = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#ml-counts button')]
    .map((b) => [b.dataset.state, Number(b.querySelector('strong').textContent)])));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total !== 200) fail('the counts add up to ' + total + ': ' + JSON.stringify(counts));
  for (const s of ['CHANGE_COPY', 'RESCAN', 'STALLED', 'REGISTERED']) if (!counts[s]) fail(`no count for ${s}: ` + JSON.stringify(counts));
  await page.locator('#ml-counts button[data-state="STALLED"]').click();
  let shown = await rows(page);
  const nStalled = Number(await page.locator('#ml-counts button[data-state="STALLED"] strong').textContent());
  if (!shown.length || shown.some((r) => r.state !== 'STALLED') || shown.length !== nStalled) fail(`STALLED filter: ${shown.length} rows, count ${nStalled}`);
  if (await page.locator('#ml-counts button[data-state="STALLED"]').getAttribute('aria-pressed') !== 'true') fail('the pressed count is not marked');
  await page.locator('#ml-counts button[data-state="STALLED"]').click();
  if ((await rows(page)).length !== 200) fail('a second click does not clear the filter');
  ok('counts per state: ' + Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') + `; clicking STALLED shows its ${nStalled} machines only, again shows all`);

  // ---- filter by state; RESCAN shows its reason ----
  await page.getByLabel('State', { exact: true }).selectOption('RESCAN');
  shown = await rows(page);
  if (!shown.length || shown.some((r) => r.state !== 'RESCAN')) fail('RESCAN filter: ' + JSON.stringify(shown.map((r) => r.state)));
  if (shown.some((r) => !r.reason.startsWith('not resuming from the checkpoint because'))) fail('a RESCAN row without its reason: ' + JSON.stringify(shown));
  ok(`the state filter shows the ${shown.length} RESCAN machines, each with its reason: ${shown[0].reason}`);
  await page.getByLabel('State', { exact: true }).selectOption('');

  // ---- search by host name and by machine id ----
  const target = fleet[137];
  await page.getByLabel('Search', { exact: true }).fill(target.name);
  await until('the search by name', async () => { const r = await rows(page); return r.length === 1 && r[0].id === target.machine_id; }, 10000);
  await page.getByLabel('Search', { exact: true }).fill(target.machine_id.toUpperCase());
  await until('the search by id', async () => { const r = await rows(page); return r.length === 1 && r[0].id === target.machine_id; }, 10000);
  const part = fleet.filter((m) => m.name.includes('fleet-13') || m.machine_id.toLowerCase().includes('fleet-13')).length;
  await page.getByLabel('Search', { exact: true }).fill('fleet-13');
  await until('the search by part of a name', async () => (await rows(page)).length === part, 10000);
  await page.getByLabel('Search', { exact: true }).fill('no-such-machine');
  await until('the empty search', async () => (await rows(page)).length === 0 && (await page.locator('#ml-shown').textContent()).includes('0 of 200'), 10000);
  await page.getByLabel('Search', { exact: true }).fill('');
  ok(`search: "${target.name}" and its machine id (in capitals) find the one machine, "fleet-13" ${part}, a stranger none ("0 of 200 shown")`);

  // ---- sort by any column ----
  const sortBy = async (name) => { await page.locator('#machines thead button', { hasText: new RegExp('^' + name + '$') }).click(); return rows(page); };
  const ariaSort = (name) => page.locator('#machines thead th', { hasText: new RegExp('^' + name + '$') }).getAttribute('aria-sort');
  let r = await sortBy('Lag');
  let bad = ordered(r.map((x) => seconds(x.lag)), 1);
  if (bad || await ariaSort('Lag') !== 'ascending') fail('lag ascending: ' + bad);
  r = await sortBy('Lag');
  bad = ordered(r.map((x) => seconds(x.lag)), -1);
  if (bad || await ariaSort('Lag') !== 'descending') fail('lag descending: ' + bad);
  if (r[0].id !== hb.machine_id) fail(`the largest lag (${hb.name}'s 4321 s) is not first: ${r[0].host} ${r[0].lag}`);
  r = await sortBy('Throughput');
  bad = ordered(r.map((x) => bps(x.throughput)), 1);
  if (bad || await ariaSort('Throughput') !== 'ascending' || await ariaSort('Lag') !== 'none') fail('throughput ascending: ' + bad);
  r = await sortBy('State');
  for (let i = 1; i < r.length; i++) {
    if (r[i].state.localeCompare(r[i - 1].state) < 0) fail(`state order at row ${i}`);
    if (r[i].state === r[i - 1].state && r[i].id < r[i - 1].id) fail(`not stable: ${r[i - 1].id} before ${r[i].id} in ${r[i].state}`);
  }
  r = await sortBy('Host name');
  if (r.map((x) => x.host).join() !== fleet.map((m) => m.name + '.example').sort().join()) fail('host name order');
  const arrow = await page.locator('#machines thead button', { hasText: /^Host name$/ }).evaluate((b) => getComputedStyle(b, '::after').content);
  if (!arrow.includes('\u25B2')) fail('no direction shown on the sorted column: ' + arrow);
  ok('sort: lag ascending and descending (the 4321 s first), throughput, state (ties in machine id order: stable), host name; aria-sort and an arrow show the column and direction');

  // ---- idle machines: no busy animation; lag on one line ----
  const anim = await page.evaluate(() => ({
    indeterminate: document.querySelectorAll('#machines-body progress:indeterminate').length,
    idleBars: [...document.querySelectorAll('#machines-body tr')].filter((tr) => tr.querySelector('[data-field=state]').textContent === 'REGISTERED' && tr.querySelector('progress')).length,
    registered: [...document.querySelectorAll('#machines-body [data-field=state]')].filter((s) => s.textContent === 'REGISTERED').length,
  }));
  if (anim.indeterminate || anim.idleBars || !anim.registered) fail('busy animation on idle machines: ' + JSON.stringify(anim));
  const wrapped = await page.evaluate(() => [...document.querySelectorAll('#machines-body [data-field=lag]')].filter((td) => {
    const range = document.createRange();
    range.selectNodeContents(td);
    return new Set([...range.getClientRects()].map((q) => Math.round(q.top))).size > 1;
  }).map((td) => td.textContent));
  if (wrapped.length) fail('lag wraps: ' + wrapped.slice(0, 5).join(' | '));
  ok(`idle machines: no indeterminate progress bar anywhere, ${anim.registered} REGISTERED rows without a bar; no lag figure wraps at 1280 px`);

  // ---- the machine page: gaps, event colours, RESCAN's reason ----
  const g = fleet.find((m) => m.state === 'INITIAL_MIRROR');
  for (const [state, pct] of [['INITIAL_MIRROR', 40], ['INITIAL_MIRROR', 70], ['CHANGE_COPY', 100]]) {
    await heartbeat(g, state, { percent: pct, rate: 3e6 });
    await sleep(1000);
  }
  // silent for longer than three heartbeat intervals (1 s here): a gap
  await sleep(5000);
  await heartbeat(g, 'CHANGE_COPY', { rate: 2e6 });
  await sleep(1000);
  await heartbeat(g, 'STALLED', { reason: 'staging 127.0.0.1:7450: connection refused (retrying)', rate: 0 });
  await sleep(1000);
  await heartbeat(g, 'CHANGE_COPY', { rate: 4e6 });
  await sleep(1000);
  await heartbeat(g, 'PAUSED', { rate: 0 }); // an operator's pause is normal too
  await sleep(1000);
  await heartbeat(g, 'CHANGE_COPY', { rate: 4e6 });
  await page.goto(base + `/#/machines/${g.machine_id}`);
  await page.locator('#m-chart svg polyline, #m-chart svg circle').first().waitFor();
  const tl = await page.evaluate(async (id) => (await fetch(`/api/v1/machines/${id}/timeline`, { headers: { 'X-Requested-With': 't' } })).json(), g.machine_id);
  const series = tl.series.filter((p) => typeof p.throughput_bps === 'number');
  const silences = [];
  for (let i = 1; i < series.length; i++) if (series[i].t - series[i - 1].t > 3 * tl.heartbeat_interval) silences.push([series[i - 1].t, series[i].t]);
  if (!silences.length) fail('no silence in the series: ' + JSON.stringify(series.map((p) => p.t)));
  const spans = await page.evaluate(() => [...document.querySelectorAll('#m-chart [data-from]')].map((e) => [Number(e.dataset.from), Number(e.dataset.to)]));
  for (const [a, b] of silences) {
    if (!spans.some((s) => s[1] === a) || !spans.some((s) => s[0] === b)) fail(`the chart draws across the silence ${a}..${b}: ${JSON.stringify(spans)}`);
  }
  if (spans.some(([a, b]) => silences.some(([s0, s1]) => a <= s0 && b >= s1))) fail('a line spans a silence');
  const label = await page.locator('#m-chart svg').getAttribute('aria-label');
  if (!/gaps? without reports/.test(label)) fail('the chart\'s description does not mention the gap: ' + label);
  ok(`chart: ${silences.length} silence(s) longer than 3 heartbeat intervals drawn as gaps (${spans.length} pieces); "${label}"`);

  await until('the events', async () => (await page.locator('#m-events li').count()) >= 6, 20000);
  const evs = await page.evaluate(() => [...document.querySelectorAll('#m-events li')].map((li) => ({
    text: li.textContent.slice(li.querySelector('time').textContent.length).trim(), cls: li.className, color: getComputedStyle(li).color })));
  const redRgb = 'rgb(207, 34, 46)'; // --bad in app.css
  const stall = evs.find((e) => e.text.includes('→ STALLED'));
  const normal = evs.filter((e) => /INITIAL_MIRROR → CHANGE_COPY|STALLED → CHANGE_COPY|→ PAUSED|PAUSED → CHANGE_COPY|reporting: /.test(e.text));
  if (!stall || stall.color !== redRgb) fail('the STALLED event is not red: ' + JSON.stringify(stall));
  if (normal.length < 5 || normal.some((e) => e.color === redRgb || e.cls !== 'info')) fail('a normal event is coloured: ' + JSON.stringify(evs));
  ok(`events: ${normal.length} normal ones (${normal.map((e) => e.text).join('; ')}) in the text colour, the STALLED one red`);

  // a hold whose reason carries the remedy is a warning, not an error
  const nr = fleet.find((m) => m.state === 'NOT_READY');
  await page.goto(base + `/#/machines/${nr.machine_id}`);
  const hold = await until('the NOT_READY event', () => page.evaluate(() => {
    const li = [...document.querySelectorAll('#m-events li')].find((e) => e.textContent.includes('reporting: NOT_READY'));
    return li && { cls: li.className, color: getComputedStyle(li).color, text: li.textContent };
  }), 20000);
  if (hold.cls !== 'warning' || hold.color === redRgb) fail('NOT_READY\'s event: ' + JSON.stringify(hold));
  ok(`a NOT_READY hold is a warning (amber, ${hold.color}), not red: ${hold.text}`);

  const rs = fleet.find((m) => m.state === 'RESCAN');
  const why = 'not resuming from the checkpoint because the checkpoint belongs to another epoch';
  await heartbeat(rs, 'RESCAN', { reason: why, percent: 30, lag: 0 });
  await page.goto(base + `/#/machines/${rs.machine_id}`);
  await until('RESCAN and its reason', async () => (await page.locator('#m-state').textContent()) === 'RESCAN' &&
    (await page.locator('#m-reason').textContent()) === why, 20000);
  await until('the RESCAN event', async () => (await page.locator('#m-events li.warning').allTextContents()).some((t) => t.includes('RESCAN: ' + why) || t.includes('reporting: RESCAN: ' + why)), 20000);
  ok(`the RESCAN machine's page shows the reason under the state and in the event log: ${why}`);
  // an idle machine's page: nothing that spins
  const idle = fleet.find((m) => m.state === 'PAUSED');
  // a fresh report: on a slow run its seeding report is older than the
  // console's heartbeat timeout by now, and the machine DISCONNECTED
  await heartbeat(idle, 'PAUSED', { rate: 0, percent: 40 });
  await page.goto(base + `/#/machines/${idle.machine_id}`);
  await until('the paused machine', async () => (await page.locator('#m-state').textContent()) === 'PAUSED' &&
    (await page.locator('[data-disk] progress').count()) === 1, 20000);
  const spinning = await page.evaluate(() => document.querySelectorAll('progress:indeterminate').length);
  if (spinning) fail(`${spinning} indeterminate progress bar(s) on a paused machine's page`);
  ok(`a PAUSED machine's page (${idle.name}) has no indeterminate progress bar`);
  await page.screenshot({ path: E.ARTIFACTS + '/fleet-machine.png', fullPage: true });

  // placement (docs/staging-placement.md): run.sh placed the fleet 100/100
  // on fleet-a and fleet-b, then drained fleet-a; nothing reports storing
  // the machines, so the drain's moves stay in progress
  await page.goto(base + '/');
  await until('the Staging column', async () => (await page.locator('#machines-body [data-field=staging]').count()) === 200, 20000);
  const placed = await page.evaluate(() => [...document.querySelectorAll('#machines-body tr')].map((tr) => ({
    server: (tr.querySelector('[data-field=staging]') || {}).textContent,
    moving: (tr.querySelector('[data-field=moving]') || {}).textContent || '',
  })));
  const onB = placed.filter((p) => p.server === 'fleet-b').length;
  const moving = placed.filter((p) => p.moving === 'moving from fleet-a').length;
  if (onB !== 200 || moving !== 100) fail(`the Staging column: ${onB} rows on fleet-b (want 200), ${moving} moving from fleet-a (want 100)`);
  const mv = await page.evaluate(() => {
    const tr = [...document.querySelectorAll('#machines-body tr')].find((r) => r.querySelector('[data-field=moving]'));
    return tr && tr.dataset.machine;
  });
  await page.goto(base + `/#/machines/${mv}`);
  await until('the machine page\'s staging server', async () => (await page.locator('#f-placement').textContent()) === 'fleet-b, moving from fleet-a', 20000);
  ok('placement: the Staging column shows all 200 machines on fleet-b and the drain of fleet-a in progress for 100; a moving machine\'s page says "fleet-b, moving from fleet-a"');

  if (problems.length) fail('page errors: ' + problems.join(' | '));
  ok('no script error or CSP violation');
  await ctx.close();
} finally {
  await browser.close();
}
console.log(`fleet: ${passed} passed, 0 failed`);
