// SPDX-License-Identifier: GPL-2.0-or-later
// The machine page's Launch section and the list's Launch column, in the
// browser (docs/console.md, "Launch"; docs/launch.md, "Lifecycle"), called
// by console.test.mjs with its helpers once the installed machine replicates:
// - machine MACHINE (the real agent) test-launches from a point of the real
//   staging server, which has no launcher: the page shows the launch job
//   failed with its reason and the state back at READY_FOR_TEST;
// - a viewer sees the state and the points, and no button;
// - machine MACHINE2 (registered through the API; its staging server is the
//   stand-in that ends launches as up) walks test, a stale page's refused
//   action (409 with its reason), revert, test (watched while it runs, its
//   log line on the page and no button), mark ready, cutover and
//   finalize with the page's buttons, each confirmed in a dialog; finalize
//   frees its license (the header's count drops);
// - the list shows each machine's launch state, filters and sorts by it, also
//   at 390 px where the sort is a select and a button.
import { rmSync, writeFileSync } from 'node:fs';
import { agentStatus } from './agent.mjs';

const jobLaunchOf = (l, kind = 'launch') => (l.jobs || []).find((j) => j.kind === kind);

export function setup(h) {
  const { E, ok, fail, until, pageFetch, json, signIn, noOverflow, unlabelled, lm } = h;
  const base = E.CONSOLE_URL;
  const M = E.MACHINE, M2 = E.MACHINE2;

  const lcGet = async (page, id) => json(await pageFetch(page, 'GET', `/api/v1/machines/${id}/lifecycle`));
  async function lcPost(page, id, body) {
    const csrf = json(await pageFetch(page, 'GET', '/api/v1/session')).csrf_token;
    return pageFetch(page, 'POST', `/api/v1/machines/${id}/lifecycle`,
      { headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body });
  }
  const text = async (page, sel) => ((await page.locator(sel).textContent()) || '').trim();
  const buttons = async (page) => (await page.locator('#lc-actions button').allTextContents()).map((t) => t.trim());
  const onPage = (page, state) => until(`the page to show ${state}`, async () => (await text(page, '#lc-state')) === state, 120000);
  const rowOrder = (page) => page.$$eval('#machines-body tr', (rs) => rs.map((r) => r.dataset.machine));
  function writePoints(points) {
    writeFileSync(E.STANDIN_POINTS, JSON.stringify(points.map(([id, ms]) => ({
      id, time: new Date(ms).toISOString(), time_ns: ms * 1e6, origin: 'requested', consistency: 'filesystem',
      pinned: false, pins: [], disks: [{ name: 'vda', size: 1 << 30 }], created: new Date(ms).toISOString() }))));
  }
  // MACHINE2's agent reports its cutover point made (docs/launch.md, "The
  // cutover point"): the console launches only the point the agent names
  function cutoverDone(requestedAt, pointId) {
    return agentStatus(base, E.SERVER_CA, M2, E.MACHINE2_SECRET_FILE, { state: 'CHANGE_COPY', paused: false, disks: [],
      cutover: { requested_at: requestedAt, state: 'done', point_id: pointId, consistent_ns: Date.now() * 1e6, error: '' } });
  }
  // the dialog opened by BUTTON: it says WORDS; confirmed or cancelled
  async function confirm(page, button, words, answer) {
    await button.click();
    const dlg = page.locator('#lc-dialog');
    await dlg.waitFor({ state: 'visible' });
    const said = await dlg.textContent();
    for (const w of words) if (!said.includes(w)) fail(`the dialog does not say "${w}": ${said}`);
    await dlg.getByRole('button', { name: answer || 'Cancel', exact: true }).click();
    await dlg.waitFor({ state: 'hidden' });
    return said;
  }

  async function launchChecks(browser, page) {
    // ---- the real staging server, no launcher: the test launch fails visibly ----
    await page.goto(base + `/#/machines/${M}`);
    await onPage(page, 'READY_FOR_TEST');
    if ((await buttons(page)).length) fail('READY_FOR_TEST offers actions besides test: ' + (await buttons(page)).join());
    const synced = lm('sync').trim();
    const st1Row = page.locator('#m-points tbody tr', { has: page.locator('td[data-label=Staging]', { hasText: /^st1$/ }) }).first();
    await st1Row.waitFor({ timeout: 120000 });
    const pid = await st1Row.getAttribute('data-point');
    const testBtn = st1Row.getByRole('button', { name: `Test launch from point ${pid}` });
    await confirm(page, testBtn, [`point ${pid}`, 'replication goes on']);
    const kept = await lcGet(page, M);
    if (kept.state !== 'READY_FOR_TEST' || kept.jobs.length) fail('Cancel launched: ' + JSON.stringify(kept));
    ok(`"${synced.split('\n').pop()}": st1's point ${pid} has a Test launch button; its dialog says what follows, Cancel changes nothing`);
    const seen = new Set();
    await confirm(page, testBtn, [], 'Test launch');
    const launched = await until('the launch job', async () => jobLaunchOf(await lcGet(page, M)));
    const jobLi = page.locator(`#lc-jobs li[data-job="${launched.id}"]`);
    await until('the failed launch on the page, back at READY_FOR_TEST', async () => {
      seen.add(await text(page, '#lc-state'));
      return (await jobLi.count()) && (await text(page, `#lc-jobs li[data-job="${launched.id}"] [data-field=job-state]`)) === 'failed' &&
        (await text(page, '#lc-state')) === 'READY_FOR_TEST';
    }, 120000, 100);
    const failedJob = jobLaunchOf(await lcGet(page, M));
    const shownError = await text(page, `#lc-jobs li[data-job="${launched.id}"] [data-field=job-error]`);
    if (!failedJob.error || shownError !== failedJob.error) fail(`the job's error: page "${shownError}", API "${failedJob.error}"`);
    if (!(await jobLi.textContent()).includes('launch (test)') || !(await jobLi.textContent()).includes('on st1'))
      fail('the failed job line: ' + await jobLi.textContent());
    if (failedJob.log && failedJob.log.length) {
      const log = await text(page, `#lc-jobs li[data-job="${launched.id}"] [data-field=job-log]`);
      if (!(await jobLi.locator('pre').isVisible()) || !log.includes(failedJob.log[failedJob.log.length - 1].line))
        fail('the failed job\'s log lines (the serial tail) are not shown: ' + log);
    }
    if (!(await st1Row.getByRole('button', { name: `Test launch from point ${pid}` }).isVisible()))
      fail('no Test launch button once back at READY_FOR_TEST');
    await page.screenshot({ path: E.ARTIFACTS + '/machine-launch-failed.png', fullPage: true });
    ok(`test launch job ${launched.id} on st1 failed on the page ("${shownError}", ${failedJob.log.length} log lines shown); ` +
      `states seen: ${[...seen].join(' → ')}`);

    // ---- a viewer: the state and the points, no button ----
    const ctxV = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const pv = await ctxV.newPage();
    h.watch(pv);
    await pv.goto(base + '/');
    await signIn(pv, 'acme', 'vic', 'vic-web-password');
    await pv.locator(`tr[data-machine="${M}"] [data-field=lifecycle]`).filter({ hasText: 'READY_FOR_TEST' }).waitFor();
    await pv.goto(base + `/#/machines/${M}`);
    await onPage(pv, 'READY_FOR_TEST');
    await pv.locator(`#m-points tr[data-point="${pid}"]`).waitFor();
    await pv.locator(`#lc-jobs li[data-job="${launched.id}"]`).waitFor();
    const vButtons = await pv.locator('#launch button').count();
    if (vButtons || !(await pv.locator('#lc-viewer').isVisible())) fail(`the viewer sees ${vButtons} buttons in the Launch section`);
    const vRole = json(await pageFetch(pv, 'GET', '/api/v1/session')).role;
    if (vRole !== 'viewer') fail(`the viewer's session says role ${vRole}`);
    const forced = await lcPost(pv, M, { action: 'test' });
    if (forced.status !== 403 || json(forced).code !== 'forbidden') fail('a viewer\'s test: ' + JSON.stringify(forced));
    ok(`a viewer (vic@acme, session role ${vRole}) sees the state, the points and the failed job, no button; a forced POST: 403 ${json(forced).error}`);
    await ctxV.close();

    // ---- machine 2 on the stand-in: test, a stale page's 409, revert ----
    const t0 = Date.now();
    writePoints([[1000, t0]]);
    await page.goto(base + `/#/machines/${M2}`);
    await onPage(page, 'READY_FOR_TEST');
    const p1000 = page.getByRole('button', { name: 'Test launch from point 1000' });
    await p1000.waitFor({ timeout: 60000 });
    await confirm(page, p1000, ['point 1000'], 'Test launch');
    await onPage(page, 'TESTING');
    const up = await until('the test instance up', async () => {
      const l = await lcGet(page, M2);
      return l.instance && l.instance.state === 'up' ? l : null;
    }, 120000);
    await until('the address on the page', async () => (await page.locator('#lc-instance [data-field=address]').count()) &&
      (await text(page, '#lc-instance [data-field=address]')) === up.instance.address, 60000);
    await until('mark ready and revert', async () => (await buttons(page)).join() === 'Mark ready for cutover…,Revert…');
    const upLog = await text(page, `#lc-jobs li[data-job="${up.instance.job}"] [data-field=job-log]`);
    if (!upLog.includes(`up at ${up.instance.address}`)) fail('the launch job\'s log: ' + upLog);
    ok(`${M2}: test launch from point 1000 up at ${up.instance.address} on the page (log: "${upLog.split('\n').pop()}"); buttons: ${(await buttons(page)).join(', ')}`);
    // the page still offers "mark ready" while another tab reverts
    await page.locator('#lc-mark-ready').click();
    await page.locator('#lc-dialog').waitFor({ state: 'visible' });
    const rv = await lcPost(page, M2, { action: 'revert' });
    if (rv.status !== 202) fail('revert through the API: ' + rv.text);
    await page.locator('#lc-dialog').getByRole('button', { name: 'Mark ready', exact: true }).click();
    const refused = await until('the 409 in the section', async () => {
      const t = await text(page, '#lc-error');
      return t.includes('cannot mark-ready in state READY_FOR_TEST') && t.includes('allowed now') ? t : null;
    });
    await onPage(page, 'READY_FOR_TEST');
    if (await page.locator('#lc-mark-ready').count()) fail('Mark ready still offered in READY_FOR_TEST');
    ok(`a stale page's Mark ready (reverted meanwhile) shows the 409: ${refused}`);
    await until('the reverted instance destroyed', async () => (await lcGet(page, M2)).instance === null, 120000);

    // ---- test again, watched while it runs (the stand-in holds it); mark ready ----
    writeFileSync(E.STANDIN_HOLD, '');
    await confirm(page, p1000, [], 'Test launch');
    const running = await until('the launch running', async () => {
      const j = jobLaunchOf(await lcGet(page, M2));
      return j && j.state === 'running' && j.log.length ? j : null;
    }, 120000);
    const runLi = `#lc-jobs li[data-job="${running.id}"]`;
    await until('the running job on the page', async () => (await page.locator(runLi).count()) &&
      (await text(page, runLi + ' [data-field=job-state]')) === 'running' &&
      (await text(page, runLi + ' [data-field=job-log]')).includes(running.log[0].line));
    const waitLine = await text(page, '#lc-actions');
    if ((await buttons(page)).length || !waitLine.includes(`No action until job #${running.id} (launch) ends`))
      fail('actions while the launch runs: ' + waitLine);
    if (!(await text(page, '#lc-instance')).includes(`launching (job #${running.id})`)) fail('instance line: ' + await text(page, '#lc-instance'));
    rmSync(E.STANDIN_HOLD);
    ok(`while launch job ${running.id} runs the page shows it running with its log line ("${running.log[0].line}"), ` +
      `the instance launching and no button ("${waitLine}")`);
    await until('the second test up', async () => (await page.locator('#lc-instance [data-field=address]').count()) > 0, 120000);
    await until('mark ready offered', async () => (await page.locator('#lc-mark-ready').count()) > 0);
    await confirm(page, page.locator('#lc-mark-ready'), ['is destroyed', 'ready for cutover'], 'Mark ready');
    await onPage(page, 'READY_FOR_CUTOVER');
    await until('cut over offered', async () => (await buttons(page)).join() === 'Cut over…', 120000);
    if (await page.getByRole('button', { name: 'Test launch from point 1000' }).count()) fail('test offered in READY_FOR_CUTOVER');
    ok('test again, Mark ready (confirmed): READY_FOR_CUTOVER; only Cut over is offered');

    // ---- the list: the Launch column, its filter and its sort ----
    await page.goto(base + '/#/');
    const lcOf = (id) => page.locator(`tr[data-machine="${id}"] [data-field=lifecycle]`);
    await until('the Launch column', async () => (await lcOf(M).count()) && (await lcOf(M2).count()) &&
      (await lcOf(M).textContent()) === 'READY_FOR_TEST' && (await lcOf(M2).textContent()) === 'READY_FOR_CUTOVER');
    await page.locator('#ml-lifecycle').selectOption('READY_FOR_CUTOVER');
    if ((await rowOrder(page)).join() !== M2) fail('the launch state filter shows ' + (await rowOrder(page)).join());
    await page.locator('#ml-lifecycle').selectOption('');
    const header = page.locator('#machines thead th[data-sort=lifecycle] button');
    await header.click();
    const asc = await rowOrder(page);
    await header.click();
    const desc = await rowOrder(page);
    if (asc.indexOf(M) > asc.indexOf(M2) || desc.indexOf(M2) > desc.indexOf(M) ||
        await page.locator('#machines thead th[data-sort=lifecycle]').getAttribute('aria-sort') !== 'descending')
      fail(`sort by launch state: ${asc} / ${desc}`);
    await page.screenshot({ path: E.ARTIFACTS + '/machines-launch.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    if (await page.locator('#machines thead').isVisible()) fail('the header row shows at 390 px');
    // (the select shows the header's choice: another column first, so that
    // choosing the launch state is a change)
    await page.locator('#ml-sort').selectOption('hostname');
    await page.locator('#ml-sort').selectOption('lifecycle');
    const pAsc = await rowOrder(page);
    await page.getByRole('button', { name: /^Sort order: ascending/ }).click();
    const pDesc = await rowOrder(page);
    if (pAsc.indexOf(M) > pAsc.indexOf(M2) || pDesc.indexOf(M2) > pDesc.indexOf(M)) fail(`the phone sort: ${pAsc} / ${pDesc}`);
    await noOverflow(page, 'the machines list with its sort control');
    await page.screenshot({ path: E.ARTIFACTS + '/machines-launch-phone.png', fullPage: true });
    await page.locator('#ml-sort').selectOption('hostname');
    await page.setViewportSize({ width: 1280, height: 900 });
    ok('the list: a Launch column (READY_FOR_TEST, READY_FOR_CUTOVER), its filter, its sort both ways by header; at 390 px by the Sort by select and the order button');

    // ---- cutover: the page waits for the point the agent made after the request ----
    await page.goto(base + `/#/machines/${M2}`);
    await until('cut over offered', async () => (await page.locator('#lc-cutover').count()) > 0);
    await confirm(page, page.locator('#lc-cutover'), ['final consistent point'], 'Cut over');
    await onPage(page, 'CUTTING_OVER');
    await until('the wait shown', async () => (await text(page, '#lc-what')).includes('Cutover asked by alice@acme'));
    const at = (await lcGet(page, M2)).cutover.requested_at;
    writePoints([[1000, t0], [1001, Date.now()]]);
    await cutoverDone(at, 1001);
    await onPage(page, 'CUTOVER');
    const cut = await until('the cutover instance up', async () => {
      const l = await lcGet(page, M2);
      return l.instance && l.instance.state === 'up' ? l : null;
    }, 120000);
    await until('the cutover address', async () => (await text(page, '#lc-instance')).includes(`Cutover instance ${cut.instance.name} from point 1001: up at ${cut.instance.address}`));
    await until('revert and finalize', async () => (await buttons(page)).join() === 'Revert…,Finalize…');
    await page.screenshot({ path: E.ARTIFACTS + '/machine-launch.png', fullPage: true });
    await page.locator('#launch').screenshot({ path: E.ARTIFACTS + '/launch.png' }); // docs/console-launch.png
    if ((await unlabelled(page)).length) fail('controls without a name: ' + (await unlabelled(page)).join(' | '));
    ok(`cutover (confirmed): CUTTING_OVER until point 1001, then CUTOVER with ${cut.instance.name} up at ${cut.instance.address}`);

    // ---- finalize: asked first; the license is freed ----
    const before = await text(page, '#licenses');
    if (before !== 'Licenses: 2 of 3 in use') fail('licenses before finalize: ' + before);
    const said = await confirm(page, page.locator('#lc-finalize'), ['license is freed', 'uninstalls itself', 'cannot be undone']);
    if ((await lcGet(page, M2)).state !== 'CUTOVER') fail('Cancel finalized');
    await confirm(page, page.locator('#lc-finalize'), [], 'Finalize');
    await onPage(page, 'FINALIZED');
    await until('the license freed', async () => (await text(page, '#licenses')) === 'Licenses: 1 of 3 in use');
    await until('no button left', async () => (await page.locator('#launch button').count()) === 0);
    if (!(await text(page, '#lc-what')).includes('Finalized by alice@acme')) fail('finalized line: ' + await text(page, '#lc-what'));
    await page.screenshot({ path: E.ARTIFACTS + '/machine-finalized.png', fullPage: true });
    ok(`finalize asks first ("${said.slice(0, 60)}…"; Cancel changes nothing), then FINALIZED: ${before} → ${await text(page, '#licenses')}; no button left`);
    await page.goto(base + `/#/machines/${M}`);
    await onPage(page, 'READY_FOR_TEST');
  }
  return { launchChecks };
}
