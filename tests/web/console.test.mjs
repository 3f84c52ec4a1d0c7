// SPDX-License-Identifier: GPL-2.0-or-later
// The console's web page in Debian's chromium (playwright-core, never a
// downloaded browser). Started by tests/web/run.sh, which sets up the
// console, staging and an installed (not yet started) livemigd and passes:
//   CONSOLE_URL SPKI CHROMIUM MACHINE LIVEMIG IDIR ISOCK TRY_INSTALL ARTIFACTS SERVER_CA
//   STAGING_SECRET_FILE (a staging server's sync secret, for the points check)
//   MACHINE2 (a machine registered through the API, without an agent: the
//   test speaks for it with MACHINE2_SECRET_FILE) and STANDIN_POINTS (the
//   points file of the stand-in staging server that holds it and ends its
//   launches as up), for the Launch section
// Each check prints "ok: ..."; the first failure throws and exits 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { chromium } from 'playwright-core';
import { fail, sleep, until } from './wait.mjs';
import { setup as launchSetup } from './launch.test.mjs';

const E = process.env;
const base = E.CONSOLE_URL;
const M = E.MACHINE;
const M2 = E.MACHINE2;
let passed = 0;
const ok = (msg) => { passed++; console.log('ok: ' + msg); };

const lm = (...args) => execFileSync(E.LIVEMIG, ['--socket', E.ISOCK, ...args], { encoding: 'utf8' });
const agent = () => JSON.parse(lm('status', '--json'));

// fetch() inside the page: same origin, the browser's cookies, no token
// unless given: what a script on the page (or a forged request) can send
async function pageFetch(page, method, path, { headers = {}, body } = {}) {
  return page.evaluate(async ([m, p, h, b]) => {
    const r = await fetch(p, { method: m, headers: h, body: b, credentials: 'same-origin' });
    return { status: r.status, text: await r.text() };
  }, [method, path, { 'X-Requested-With': 'test', ...headers }, body === undefined ? undefined : JSON.stringify(body)]);
}
const json = (r) => { try { return JSON.parse(r.text); } catch { return {}; } };

// What a staging server sends (docs/staging-console.md), with the secret
// run.sh had the console issue for it.
function stagingSync(body) {
  const secret = readFileSync(E.STAGING_SECRET_FILE, 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.request(base + '/api/v1/staging/sync', {
      method: 'POST', ca: readFileSync(E.SERVER_CA),
      headers: { Authorization: 'Bearer ' + secret, 'Content-Type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

// A request from outside the browser, verifying the console's certificate
// against the test CA, with a cookie header of our choosing.
function direct(method, path, cookie) {
  return new Promise((resolve, reject) => {
    const req = https.request(base + path, { method, ca: readFileSync(E.SERVER_CA), headers: { Cookie: cookie } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function signIn(page, account, user, password) {
  await page.getByLabel('Account').fill(account);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// Every control has a name a screen reader can say.
async function unlabelled(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const e of document.querySelectorAll('input, select, button, progress, a')) {
      if (e.closest('[hidden]') || e.type === 'hidden') continue;
      const name = e.getAttribute('aria-label') || (e.labels && e.labels.length && e.labels[0].textContent.trim()) ||
        (e.tagName !== 'INPUT' && e.tagName !== 'PROGRESS' && e.textContent.trim());
      if (!name) bad.push(e.outerHTML.slice(0, 80));
    }
    return bad;
  });
}

async function noOverflow(page, what) {
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  if (sw > iw + 1) fail(`${what} is wider than a ${iw}px window (${sw}px)`);
}

// Signed out, the header shows neither the user, nor "Sign out", nor the
// license badge: hidden by the hidden attribute, whatever the style sheet
// says about their display.
async function signedOutHeader(page, when) {
  for (const id of ['who', 'signout', 'licenses', 'who-name', 'nav']) {
    if (await page.locator('#' + id).isVisible()) fail(`#${id} is visible ${when}`);
    const box = await page.locator('#' + id).boundingBox();
    if (box && box.width > 0 && box.height > 0) fail(`#${id} takes ${box.width}x${box.height} px ${when}`);
  }
  if (await page.getByRole('button', { name: 'Sign out' }).count()) fail(`a "Sign out" button ${when}`);
  ok(`signed out (${when}): no user, no "Sign out", no license badge in the header`);
}

const { launchChecks } = launchSetup({ E, ok, fail, until, pageFetch, json, signIn, noOverflow, unlabelled, watch, lm });

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
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await ctx.newPage();
  watch(page);

  // ---- sign-in ----
  await page.goto(base + '/');
  await page.getByLabel('Account').waitFor();
  await signedOutHeader(page, 'before sign-in');
  await signIn(page, 'acme', 'alice', 'not-the-password');
  await until('the refusal', async () => (await page.locator('#signin-error').textContent()).includes('wrong user name or password for account acme'));
  if ((await ctx.cookies()).some((c) => c.name === 'lm_session')) fail('a session cookie after a wrong password');
  ok('a wrong password is refused: ' + await page.locator('#signin-error').textContent());

  await signIn(page, 'acme', 'alice', 'alice-web-password');
  await page.locator('#who-name').filter({ hasText: 'alice@acme' }).waitFor();
  const cookie = (await ctx.cookies()).find((c) => c.name === 'lm_session');
  if (!cookie || !cookie.httpOnly || !cookie.secure || cookie.sameSite !== 'Strict') fail('cookie attributes: ' + JSON.stringify(cookie));
  if (!/^lms_[0-9a-f]{64}$/.test(cookie.value)) fail('cookie value form: ' + cookie.value);
  if ((await page.evaluate(() => document.cookie)).includes('lm_session')) fail('the page script can read the session cookie');
  ok('signed in as alice@acme: cookie lm_session HttpOnly, Secure, SameSite=Strict');

  // ---- the machine appears ----
  const row = page.locator(`tr[data-machine="${M}"]`);
  await row.waitFor({ timeout: 60000 });
  const rowText = await row.textContent();
  if (!/MAC [0-9a-f:]{17}/.test(rowText)) fail('identity source not shown: ' + rowText);
  await until('the licenses', async () => (await page.locator('#licenses').textContent()) === 'Licenses: 2 of 3 in use');
  ok(`machine ${M} listed: ${(await row.locator('[data-field=state]').textContent())}; licenses 2 of 3 in use (with ${M2})`);

  // ---- replication starts: the progress rises to 100 % and CHANGE_COPY ----
  console.log(execFileSync(E.LIVEMIG, ['start', '--config-dir', E.IDIR], { encoding: 'utf8' }).trim());
  const seen = new Set();
  let shotMid = false;
  await until('CHANGE_COPY at 100 % on the page', async () => {
    const st = await row.locator('[data-field=state]').textContent();
    const p = await row.locator('[data-field=percent]').textContent();
    const v = parseFloat(p);
    if (!isNaN(v)) seen.add(v);
    if (!isNaN(v) && v > 20 && v < 90 && !shotMid) {
      shotMid = true;
      await page.screenshot({ path: E.ARTIFACTS + '/machines-mirror.png', fullPage: true });
    }
    return st === 'CHANGE_COPY' && p === '100.0 %';
  }, 90000, 200);
  const mid = [...seen].filter((v) => v > 0 && v < 100).sort((a, b) => a - b);
  if (mid.length < 3) fail('the page did not follow the mirror: saw ' + [...seen].join(', '));
  ok(`progress rose on the page through ${mid.length} values (${mid[0]} % ... ${mid[mid.length - 1]} %) to 100 % and CHANGE_COPY`);
  const lagText = await row.locator('td[data-label=Lag]').textContent();
  const agentText = await row.locator('td[data-label=Agent]').textContent();
  if (!/^\d/.test(agentText)) fail('no agent version: ' + agentText);
  ok(`the list shows agent ${agentText}, lag ${lagText}, last seen ${await row.locator('td[data-label="Last seen"]').textContent()}`);
  await page.screenshot({ path: E.ARTIFACTS + '/machines.png', fullPage: true });
  if ((await unlabelled(page)).length) fail('controls without a name: ' + (await unlabelled(page)).join(' | '));

  // ---- the machine's page ----
  await row.getByRole('link').click();
  await page.locator('#m-title').waitFor();
  await until('the disk bar', async () => (await page.locator('[data-disk] progress').count()) === 1);
  const diskLabel = await page.locator('[data-disk] progress').getAttribute('aria-label');
  const diskText = await page.locator('[data-disk]').textContent();
  if (!/48\.0 MiB of 48\.0 MiB/.test(diskText) && !/of 48\.0 MiB/.test(diskText)) fail('disk figures: ' + diskText);
  await until('the chart', async () => (await page.locator('#m-chart svg polyline').count()) === 1);
  await until('the event log', async () => (await page.locator('#m-events').textContent()).includes('INITIAL_MIRROR → CHANGE_COPY'));
  const inv = await page.locator('#m-inventory').textContent();
  if (!/Memory\d/.test(inv.replace(/\s/g, '')) || !/Cores\d/.test(inv.replace(/\s/g, ''))) fail('inventory: ' + inv);
  const invDisks = await page.locator('#m-inv-disks').textContent();
  if (!invDisks.includes('root disk')) fail('no root disk in the inventory: ' + invDisks);
  for (const f of ['f-eta', 'f-backlog', 'f-lag', 'f-consistent', 'f-throughput'])
    if (!(await page.locator('#' + f).textContent()).trim()) fail('empty ' + f);
  ok(`detail: ${diskLabel}, chart, events (INITIAL_MIRROR → CHANGE_COPY), inventory (${invDisks.trim().slice(0, 60)})`);

  // ---- recovery points: what staging reports appears on the machine's page ----
  if (!(await page.locator('#m-points-empty').isVisible())) fail('no "no recovery point" line before any point');
  const pointTime = '2026-12-06T03:15:00.123Z';
  const point = {
    id: 901, time: pointTime, time_ns: Date.parse(pointTime) * 1e6, origin: 'final-sync',
    consistency: 'filesystem', pinned: true, pins: ['launch-7'],
    disks: [{ name: 'vda', size: 50331648 }], created: pointTime,
  };
  const synced = await stagingSync({ version: 'web-test', machines: [{ machine: M, points: [point] }] });
  if (synced.status !== 200) fail('staging sync: ' + synced.status + ' ' + synced.text);
  const pointRow = page.locator('#m-points tr[data-point="901"]');
  await pointRow.waitFor({ timeout: 10000 });
  const cells = await pointRow.locator('td').allTextContents();
  if (cells[0] !== '901' || cells[2] !== 'final sync' || cells[3] !== 'filesystem' ||
      cells[4] !== 'pinned (launch-7)' || cells[5] !== 'web-st' ||
      (await pointRow.locator('time').getAttribute('datetime')) !== pointTime)
    fail('point row: ' + JSON.stringify(cells));
  if (await page.locator('#m-points-empty').isVisible()) fail('"no recovery point" still shown');
  await page.screenshot({ path: E.ARTIFACTS + '/machine-points.png', fullPage: true });
  ok(`recovery points: the point staging reported is on the page: ${cells.slice(0, 6).join(' | ')}`);

  // ---- staging jobs: one asked through the API shows on the page ----
  if (!(await page.locator('#m-jobs-empty').isVisible())) fail('no "no job" line before any job');
  const csrfJob = json(await pageFetch(page, 'GET', '/api/v1/session')).csrf_token;
  const made = await pageFetch(page, 'POST', `/api/v1/machines/${M}/jobs`,
    { headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfJob }, body: { kind: 'refresh-points' } });
  if (made.status !== 201) fail('job: ' + made.status + ' ' + made.text);
  const jobRow = page.locator(`#m-jobs li[data-job="${json(made).id}"]`);
  await jobRow.waitFor({ timeout: 10000 });
  // the real staging server, syncing with the console, runs it
  await until('the job run by st1', async () => (await jobRow.locator('[data-field=job-state]').textContent()) === 'succeeded');
  const jobText = await jobRow.textContent();
  if (!jobText.includes('refresh-points') || !jobText.includes('by alice@acme') || !jobText.includes('on st1'))
    fail('job row: ' + jobText);
  ok(`staging jobs: the job asked is on the page: ${jobText.trim()}`);

  // live: the page shows each report soon after its arrival. The page polls
  // every second; 10 s is ten polls, far from a page that stopped polling
  // (which never shows it) and far from what a busy machine adds.
  let worst = 0;
  for (let i = 0; i < 3; i++) {
    const r0 = json(await pageFetch(page, 'GET', `/api/v1/machines/${M}?history=0`)).status_received_at;
    const r1 = await until('a new report', async () => {
      const r = json(await pageFetch(page, 'GET', `/api/v1/machines/${M}?history=0`)).status_received_at;
      return r > r0 ? r : 0;
    }, 60000, 50);
    const t0 = Date.now();
    await until('the page to show the report', async () => Number(await page.locator('#f-received').getAttribute('data-received-at')) >= r1, 60000, 50);
    worst = Math.max(worst, Date.now() - t0);
  }
  if (worst > 10000) fail(`the page took ${worst} ms to show a report`);
  ok(`live: each of 3 reports on the page within ${worst} ms of its arrival at the console`);
  await page.screenshot({ path: E.ARTIFACTS + '/machine.png', fullPage: true });
  if ((await unlabelled(page)).length) fail('controls without a name: ' + (await unlabelled(page)).join(' | '));

  // ---- pause and resume from the page ----
  let t0 = Date.now();
  await page.getByRole('button', { name: 'Pause replication' }).click();
  await until('the agent to pause', async () => { const s = agent(); return s.paused && s.state === 'PAUSED'; }, 60000, 100);
  const agentPaused = Date.now() - t0;
  await until('the page to show PAUSED', async () => (await page.locator('#m-state').textContent()) === 'PAUSED');
  if (!(await page.locator('#m-request').textContent()).includes('Pause asked by alice@acme')) fail('request line: ' + await page.locator('#m-request').textContent());
  if (!/PAUSED/.test(lm('status'))) fail('livemig status does not say PAUSED');
  ok(`pause: livemig status says PAUSED ${agentPaused} ms after the click; the page shows PAUSED`);
  t0 = Date.now();
  await page.getByRole('button', { name: 'Resume replication' }).click();
  await until('the agent to resume', async () => { const s = agent(); return !s.paused && s.state !== 'PAUSED'; }, 60000, 100);
  const agentResumed = Date.now() - t0;
  await until('the page to leave PAUSED', async () => (await page.locator('#m-state').textContent()) === 'CHANGE_COPY');
  ok(`resume: the agent replicates again ${agentResumed} ms after the click (${agent().state}); the page shows CHANGE_COPY`);

  // ---- CSRF: the cookie alone changes nothing ----
  const forged = await pageFetch(page, 'POST', `/api/v1/machines/${M}/replication`,
    { headers: { 'Content-Type': 'application/json' }, body: { state: 'paused' } });
  if (forged.status !== 403 || json(forged).code !== 'csrf_required') fail('no CSRF token: ' + JSON.stringify(forged));
  const wrong = await pageFetch(page, 'POST', '/api/v1/tokens',
    { headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': '0'.repeat(64) }, body: { label: 'forged' } });
  if (wrong.status !== 403) fail('a wrong CSRF token: ' + JSON.stringify(wrong));
  const csrf = json(await pageFetch(page, 'GET', '/api/v1/session')).csrf_token;
  const plain = await pageFetch(page, 'POST', `/api/v1/machines/${M}/replication`,
    { headers: { 'Content-Type': 'text/plain', 'X-CSRF-Token': csrf }, body: { state: 'paused' } });
  if (plain.status !== 415) fail('a change sent as text/plain (what a form can send): ' + JSON.stringify(plain));
  const out = await pageFetch(page, 'DELETE', '/api/v1/session');
  if (out.status !== 403) fail('sign-out without the token: ' + JSON.stringify(out));
  // a pause travels to the agent in the answer to its heartbeat: two
  // reports after the forged requests, one would have carried it
  const rForged = json(await pageFetch(page, 'GET', `/api/v1/machines/${M}?history=0`)).status_received_at;
  await until('two reports after the forged requests', async () =>
    json(await pageFetch(page, 'GET', `/api/v1/machines/${M}?history=0`)).status_received_at >= rForged + 2);
  if (agent().paused) fail('the forged pause reached the agent');
  const tokensNow = json(await pageFetch(page, 'GET', '/api/v1/tokens')).tokens;
  if (tokensNow.some((t) => t.label === 'forged')) fail('the forged token was created');
  ok(`CSRF: a POST without the token is refused (${forged.status} ${json(forged).code}: ${json(forged).error}); a wrong token too; a text/plain body 415; nothing changed`);

  await launchChecks(browser, page);

  // ---- installation tokens ----
  await page.getByRole('link', { name: 'Installation tokens' }).click();
  await page.getByLabel('Label').fill('web test');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.locator('#new-token').waitFor();
  const secret = (await page.locator('#nt-secret').textContent()).trim();
  if (!/^lmt_[0-9a-f]{64}$/.test(secret)) fail('token: ' + secret);
  const cmds = {};
  for (const k of ['apt', 'yum', 'ansible']) {
    cmds[k] = await page.locator('#cmd-' + k).textContent();
    if (cmds[k].split(secret).length !== 2 || !cmds[k].includes(base)) fail(`${k} command: ${cmds[k]}`);
  }
  if (!cmds.apt.includes('apt-get install -y livemig-agent livemig-cbt-dkms') ||
      !cmds.yum.includes('yum install -y livemig-agent livemig-cbt-dkms') ||
      !cmds.ansible.includes('role: livemig_agent') || !cmds.ansible.includes('account: acme'))
    fail('commands: ' + JSON.stringify(cmds));
  // run the apt and yum commands' settings part in a scratch root (no sudo,
  // no package manager): the drop-in and the token file must be what the
  // packages read (docs/install.md)
  for (const k of ['apt', 'yum']) {
    const root = mkdtempSync(join(tmpdir(), 'livemig-cmd-'));
    const script = cmds[k].split('\n').filter((l) => !/(apt-get|yum) install/.test(l))
      .map((l) => (/^(sudo|printf) /.test(l) ? l.replaceAll('sudo ', '').replaceAll('/etc/livemig', root + '/etc/livemig') : l))
      .join('\n');
    const r = spawnSync('bash', ['-euc', 'mkdir -p ' + root + '/etc/livemig\n' + script], { encoding: 'utf8' });
    if (r.status !== 0) fail(`${k} command failed: ${r.stderr}`);
    const conf = readFileSync(root + '/etc/livemig/install.conf.d/50-console.conf', 'utf8');
    if (conf !== `console_url = ${base}\nconsole_ca = /etc/livemig/console-ca.pem\naccount = acme\n`) fail(`${k} drop-in: ${JSON.stringify(conf)} (base ${base})`);
    if (readFileSync(root + '/etc/livemig/token', 'utf8') !== secret + '\n') fail(`${k} token file`);
    if (!new X509Certificate(readFileSync(root + '/etc/livemig/console-ca.pem')).raw.equals(new X509Certificate(readFileSync(E.SERVER_CA)).raw))
      fail(`${k}: console-ca.pem is not the console's CA`);
    const mode = statSync(root + '/etc/livemig/token').mode & 0o777;
    if (mode !== 0o600) fail(`${k} token file mode ${mode.toString(8)}`);
    rmSync(root, { recursive: true });
  }
  // the console's CA certificate: shown, downloadable, fingerprinted, and
  // written by the commands where their settings point
  const caFile = readFileSync(E.SERVER_CA, 'utf8');
  const caCert = new X509Certificate(caFile);
  const shownPem = await page.locator('#ca-pem').textContent();
  if (!new X509Certificate(shownPem).raw.equals(caCert.raw)) fail('the page shows another CA certificate: ' + shownPem);
  const dl = await pageFetch(page, 'GET', await page.locator('#ca-download').getAttribute('href'));
  if (dl.status !== 200 || !new X509Certificate(dl.text).raw.equals(caCert.raw)) fail('the CA download: ' + dl.status + ' ' + dl.text);
  const fp = await page.locator('#ca-fingerprint').textContent();
  if (fp !== caCert.fingerprint256) fail(`fingerprint ${fp}, openssl says ${caCert.fingerprint256}`);
  if (await page.locator('#ca-download').getAttribute('download') !== 'console-ca.pem') fail('the link does not save console-ca.pem');
  await page.getByRole('button', { name: 'Copy the CA certificate' }).click();
  await until('the CA on the clipboard', async () => (await page.evaluate(() => navigator.clipboard.readText())) === shownPem);
  ok(`the token page offers the console's CA certificate (shown, copied, downloadable as console-ca.pem; SHA-256 ${fp.slice(0, 23)}…), the one serve --console-ca names`);
  await page.getByRole('button', { name: 'Copy the Debian, Ubuntu (apt) command' }).click();
  await until('the clipboard', async () => (await page.evaluate(() => navigator.clipboard.readText())) === cmds.apt);
  ok('a new token is shown once with apt, yum and Ansible commands holding it (the apt and yum ones run in a scratch root: CA certificate, drop-in and 0600 token file); the apt one copied to the clipboard');
  await page.screenshot({ path: E.ARTIFACTS + '/tokens.png', fullPage: true });
  if ((await unlabelled(page)).length) fail('controls without a name: ' + (await unlabelled(page)).join(' | '));

  const listing = await pageFetch(page, 'GET', '/api/v1/tokens');
  const mine = json(listing).tokens.find((t) => t.label === 'web test');
  if (!mine || mine.state !== 'active') fail('token list: ' + listing.text);
  if (listing.text.includes(secret) || /hash/i.test(listing.text)) fail('the token list reveals a secret or hash: ' + listing.text);
  // revoking asks first: Cancel changes nothing
  await page.getByRole('button', { name: `Revoke token ${mine.id}` }).click();
  await page.locator('#revoke-dialog').waitFor({ state: 'visible' });
  if (!(await page.locator('#rv-name').textContent()).includes(String(mine.id))) fail('the dialog does not name the token');
  await page.locator('#rv-cancel').click();
  await page.locator('#revoke-dialog').waitFor({ state: 'hidden' });
  const stillActive = json(await pageFetch(page, "GET", "/api/v1/tokens")).tokens.find((t) => t.id === mine.id);
  if (stillActive.state !== "active") fail("Cancel revoked the token");
  ok(`Revoke asks first: a dialog names token ${mine.id}; Cancel leaves it active`);
  await page.getByRole('button', { name: `Revoke token ${mine.id}` }).click();
  await page.getByRole('button', { name: 'Revoke token', exact: true }).click();
  await until('the revoked state', async () => (await page.locator(`tr[data-token="${mine.id}"] [data-field=state]`).textContent()) === 'revoked');
  const inst = spawnSync('bash', [E.TRY_INSTALL, secret], { encoding: 'utf8' });
  if (inst.status !== 24 || !inst.stdout.includes('was revoked at')) fail(`livemig install with the revoked token: exit ${inst.status}: ${inst.stdout}`);
  ok(`token ${mine.id} revoked on the page; livemig install refuses it: exit 24: ${inst.stdout.trim().split('\n').pop()}`);
  await page.reload();
  await page.locator('#tokens-body tr').first().waitFor();
  if ((await page.content()).includes(secret)) fail('the token is shown again after a reload');
  ok('after a reload the token is not shown again');

  // ---- nothing secret in what the page reads ----
  for (const p of ['/api/v1/machines', `/api/v1/machines/${M}?history=50`, `/api/v1/machines/${M}/timeline`, '/api/v1/session', '/api/v1/tokens']) {
    const r = await pageFetch(page, 'GET', p);
    if (r.status !== 200) fail(`${p}: ${r.status}`);
    for (const bad of ['pw_hash', 'secret_hash', 'agent_secret', 'lma_', 'lmt_', 'alice-web-password', cookie.value])
      if (r.text.includes(bad)) fail(`${p} reveals ${bad}`);
  }
  ok('no password, hash, agent secret, token or session secret in any answer the page reads');

  // ---- another account sees none of it ----
  const ctxB = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const pageB = await ctxB.newPage();
  watch(pageB);
  await pageB.goto(base + '/');
  await signIn(pageB, 'globex', 'bob', 'bob-web-password');
  await pageB.locator('#machines-empty').waitFor({ state: 'visible' });
  if (await pageB.locator('tr[data-machine]').count()) fail('bob sees a machine');
  await until('bob\'s licenses', async () => (await pageB.locator('#licenses').textContent()) === 'Licenses: 0 of 1 in use');
  const csrfB = json(await pageFetch(pageB, 'GET', '/api/v1/session')).csrf_token;
  const hdr = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfB };
  const probes = [
    await pageFetch(pageB, 'GET', `/api/v1/machines/${M}`),
    await pageFetch(pageB, 'GET', `/api/v1/machines/${M}/timeline`),
    await pageFetch(pageB, 'POST', `/api/v1/machines/${M}/replication`, { headers: hdr, body: { state: 'paused' } }),
    await pageFetch(pageB, 'DELETE', `/api/v1/tokens/${mine.id}`, { headers: hdr }),
    await pageFetch(pageB, 'DELETE', `/api/v1/machines/${M}`, { headers: hdr }),
  ];
  if (probes.some((r) => r.status !== 404)) fail('bob reached acme: ' + JSON.stringify(probes));
  if (json(await pageFetch(pageB, 'GET', '/api/v1/tokens')).tokens.length) fail('bob sees acme\'s tokens');
  await pageB.goto(base + `/#/machines/${M}`);
  await pageB.locator('#view-notfound').waitFor({ state: 'visible' });
  if (agent().paused) fail('bob paused acme\'s machine');
  ok(`another account (bob@globex) sees no machine, no token; ${probes.length} direct calls on acme's machine and token answer 404`);
  await ctxB.close();

  // ---- phone width ----
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + '/#/');
  await row.waitFor();
  await noOverflow(page, 'the machines list');
  await page.screenshot({ path: E.ARTIFACTS + '/machines-phone.png', fullPage: true });
  await page.goto(base + `/#/machines/${M}`);
  await page.locator('[data-disk]').waitFor();
  await noOverflow(page, 'the machine page');
  await page.screenshot({ path: E.ARTIFACTS + '/machine-phone.png', fullPage: true });
  ok('readable at 390 px: no page wider than the window');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ---- removing the machine: asked first, then the license is free and the agent stops ----
  await page.goto(base + `/#/machines/${M}`);
  await page.locator('[data-disk]').waitFor();
  await page.getByRole('button', { name: 'Remove this machine' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor({ state: 'visible' });
  const asked = await dialog.textContent();
  if (!asked.includes(M) || !asked.includes('license is freed') || !asked.includes('reinstall the agent'))
    fail('the confirmation does not say what removal does: ' + asked);
  await page.screenshot({ path: E.ARTIFACTS + '/machine-remove.png', fullPage: true });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const kept = json(await pageFetch(page, 'GET', `/api/v1/machines/${M}?history=0`));
  if (kept.deregistered_at !== null || agent().state === 'NOT_READY') fail('Cancel removed the machine: ' + JSON.stringify(kept.state));
  ok('Remove asks first, naming the machine and what follows; Cancel changes nothing');
  await page.getByRole('button', { name: 'Remove this machine' }).click();
  await dialog.getByRole('button', { name: 'Remove machine' }).click();
  await page.locator('#view-machines').waitFor({ state: 'visible' });
  await until('the license freed', async () => (await page.locator('#licenses').textContent()) === 'Licenses: 0 of 3 in use');
  await until('the row gone', async () => (await page.locator(`tr[data-machine="${M}"]`).count()) === 0);
  const notice = await page.locator('#machines-notice').textContent();
  if (!notice.includes(`Removed`) || !notice.includes(M)) fail('no notice of the removal: ' + notice);
  t0 = Date.now();
  const told = await until('the agent told', async () => {
    const s = agent();
    return s.state === 'NOT_READY' && s.reason.startsWith('removed by the console operator (alice@acme at ') ? s : null;
  }, 60000, 100);
  if (!told.reason.includes('livemig uninstall && livemig install')) fail('no remedy: ' + told.reason);
  if (!lm('status').includes('removed by the console operator')) fail('livemig status does not say it was removed');
  const gone = json(await pageFetch(page, 'GET', `/api/v1/machines/${M}?history=0`));
  if (gone.state !== 'DEREGISTERED') fail('removed machine state: ' + gone.state);
  ok(`removed on the page: licenses 0 of 3, the row gone; the agent NOT_READY ${Date.now() - t0} ms later: ${told.reason}`);

  // ---- sign-out ----
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Account').waitFor();
  await signedOutHeader(page, 'after sign-out');
  if ((await ctx.cookies()).some((c) => c.name === 'lm_session' && c.value)) fail('the cookie survived sign-out');
  const stale = await direct('GET', '/api/v1/machines', 'lm_session=' + cookie.value);
  if (stale.status !== 401 || JSON.parse(stale.text).code !== 'session_expired') fail('the old session still works: ' + stale.text);
  ok('signed out: the cookie is gone, and the old session is refused (401 session_expired)');

  if (external.length) fail('requests outside the console: ' + external.join(' '));
  if (problems.length) fail('page errors: ' + problems.join(' | '));
  ok('no request left the console; no script error or CSP violation');
  await ctx.close();
} finally {
  await browser.close();
}
console.log(`web: ${passed} passed, 0 failed`);
