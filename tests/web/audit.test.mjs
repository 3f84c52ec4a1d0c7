// SPDX-License-Identifier: GPL-2.0-or-later
// A machine's audit log on its page (docs/console.md, "A machine's page"),
// in Debian's chromium. Started by tests/web/run.sh, which registered
// MACHINE3 through the API with an installation token (no agent; the test
// reports its heartbeat with its secret) and passes:
//   CONSOLE_URL SPKI CHROMIUM ARTIFACTS SERVER_CA MACHINE3 MACHINE3_SECRET_FILE
// The page's Pause and Resume are recorded and shown at once, newest first,
// with who (user and role), when, from where (the browser's address) and
// what; the rows are the API's records; a viewer reads the same log; at
// phone width each record is a card. Each check prints "ok: ..."; the
// first failure throws and exits 1.
import { chromium } from 'playwright-core';
import { fail, sleep, until } from './wait.mjs';
import { agentStatus } from './agent.mjs';

const E = process.env;
const base = E.CONSOLE_URL;
const M3 = E.MACHINE3;
let passed = 0;
const ok = (msg) => { passed++; console.log('ok: ' + msg); };

// The machine's heartbeat, as its agent sends it once it has paused.
function heartbeat(state) {
  return agentStatus(base, E.SERVER_CA, M3, E.MACHINE3_SECRET_FILE, { state: state, paused: state === 'PAUSED', disks: [] });
}

async function signIn(page, account, user, password) {
  await page.getByLabel('Account').fill(account);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await until('signed in as ' + user, () => page.locator('#who').textContent().then((t) => t.includes(user)));
}

// The audit table's rows as the page shows them.
function rows(page) {
  return page.evaluate(() => [...document.querySelectorAll('#m-audit-rows tr')].map((tr) => ({
    id: Number(tr.dataset.audit),
    action: tr.querySelector('[data-field=action]').textContent,
    who: tr.querySelector('[data-field=who]').textContent,
    from: tr.querySelector('[data-field=from]').textContent,
    details: tr.querySelector('[data-field=details]').textContent,
    when: tr.querySelector('time').getAttribute('datetime'),
  })));
}

async function apiRecords(page) {
  return page.evaluate(async (m) => {
    const r = await fetch('/api/v1/machines/' + m + '/audit', { headers: { 'X-Requested-With': 'test' } });
    return (await r.json()).records;
  }, M3);
}

const browser = await chromium.launch({
  executablePath: E.CHROMIUM,
  args: [`--ignore-certificate-errors-spki-list=${E.SPKI}`],
});
const problems = [];
const external = [];
function watch(page) {
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (/Content Security Policy|Uncaught/.test(m.text())) problems.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) external.push(r.url()); });
}

try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  watch(page);
  await page.goto(base + '/');
  await signIn(page, 'initech', 'dana', 'dana-web-password');
  await page.goto(base + '/#/machines/' + M3);
  let r = await until('the registration in the audit log', async () => {
    const x = await rows(page);
    return x.length && x[x.length - 1].action === 'machine.register' ? x : null;
  });
  if (r[r.length - 1].who !== 'agent ' + M3 || r[r.length - 1].from !== '127.0.0.1' ||
      !/credential token \d+/.test(r[r.length - 1].details))
    fail('the registration row: ' + JSON.stringify(r[r.length - 1]));
  ok(`the registration is listed: ${JSON.stringify(r[r.length - 1])}`);

  const t0 = Date.now();
  await page.getByRole('button', { name: 'Pause replication' }).click();
  r = await until('the pause at the top of the audit log', async () => {
    const x = await rows(page);
    return x.length && x[0].action === 'machine.pause' ? x : null;
  });
  if (r[0].who !== 'dana@initech (operator)' || r[0].from !== '127.0.0.1')
    fail('the pause row: ' + JSON.stringify(r[0]));
  const at = Date.parse(r[0].when);
  if (!(at >= Math.floor(t0 / 1000) * 1000 - 1000 && at <= Date.now() + 1000))
    fail(`the pause's time ${r[0].when} is not the click's (${new Date(t0).toISOString()})`);
  ok(`Pause is recorded and shown at once: ${JSON.stringify(r[0])}`);

  // the agent applies the pause and says so; then Resume is offered
  await heartbeat('PAUSED');
  await until('Resume offered', () => page.getByRole('button', { name: 'Resume replication' }).isEnabled());
  await page.getByRole('button', { name: 'Resume replication' }).click();
  r = await until('the resume at the top', async () => {
    const x = await rows(page);
    return x.length && x[0].action === 'machine.resume' ? x : null;
  });
  const actions = r.map((x) => x.action);
  if (JSON.stringify(actions.slice(0, 2)) !== '["machine.resume","machine.pause"]')
    fail('not newest first: ' + actions.join(' '));
  const ids = r.map((x) => x.id);
  if (ids.some((id, i) => i && id >= ids[i - 1])) fail('rows not newest first by id: ' + ids.join(' '));
  const api = await apiRecords(page);
  if (JSON.stringify(api.map((x) => x.id)) !== JSON.stringify(ids))
    fail(`the page's rows ${ids} are not the API's ${api.map((x) => x.id)}`);
  ok(`newest first, the API's records: ${actions.join(', ')}`);
  const heads = await page.locator('#m-audit thead th').allTextContents();
  if (JSON.stringify(heads) !== '["When","Who","From","Action","Details"]') fail('columns: ' + heads);
  await page.locator('#m-audit').screenshot({ path: E.ARTIFACTS + '/console-audit.png' });
  ok('the table has When, Who, From, Action, Details; screenshot console-audit.png');

  // phone width: one card per record, each cell labelled
  await page.setViewportSize({ width: 390, height: 844 });
  const phone = await page.evaluate(() => {
    const tr = document.querySelector('#m-audit-rows tr');
    const td = tr.querySelector('[data-field=who]');
    return {
      thead: getComputedStyle(document.querySelector('#m-audit thead')).display,
      tr: getComputedStyle(tr).display,
      label: getComputedStyle(td, '::before').content,
      overflow: document.documentElement.scrollWidth > window.innerWidth,
    };
  });
  if (phone.thead !== 'none' || phone.tr !== 'block' || phone.label !== '"Who"' || phone.overflow)
    fail('at phone width: ' + JSON.stringify(phone));
  ok('at 390 px each record is a card with labelled cells, nothing wider than the screen');
  await page.setViewportSize({ width: 1280, height: 900 });

  // a viewer reads the same log
  await page.getByRole('button', { name: 'Sign out' }).click();
  await until('signed out', () => page.getByLabel('Password').isVisible());
  await signIn(page, 'initech', 'val', 'val-web-password');
  await page.goto(base + '/#/machines/' + M3);
  const v = await until('the viewer\'s audit rows', async () => {
    const x = await rows(page);
    return x.length === r.length ? x : null;
  });
  if (JSON.stringify(v.map((x) => x.id)) !== JSON.stringify(ids)) fail('the viewer sees other rows');
  ok('a viewer sees the same audit log');

  if (problems.length) fail('page problems: ' + problems.join('; '));
  if (external.length) fail('requests outside the console: ' + external.join(', '));
  ok('no script error, no request outside the console');
  console.log(`audit page: ${passed} checks passed`);
} finally {
  await browser.close();
}
