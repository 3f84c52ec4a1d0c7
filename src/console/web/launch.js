// SPDX-License-Identifier: GPL-2.0-or-later
// The machine page's Launch section: the launch lifecycle (docs/launch.md,
// "Lifecycle"; GET/POST /api/v1/machines/ID/lifecycle), the recovery points
// with a test launch button each, the buttons of the actions the state
// allows (each asks first), the lifecycle's jobs with their log lines, and
// the launched instance. app.js owns the page and hands in its helpers;
// this file owns only what is inside #launch and #lc-dialog.
'use strict';
window.livemigLaunch = (h) => {
  const { $, el, fill, api, when, errText } = h;
  // What each action is called on its button and in its dialog, and what
  // the dialog says follows (the API's own words for it: docs/launch.md).
  const ACTIONS = {
    test: { button: 'Test launch', confirm: 'Test launch' },
    'mark-ready': { button: 'Mark ready for cutover', confirm: 'Mark ready' },
    cutover: { button: 'Cut over', confirm: 'Cut over' },
    revert: { button: 'Revert', confirm: 'Revert' },
    finalize: { button: 'Finalize', confirm: 'Finalize', danger: true },
  };
  const ORDER = ['mark-ready', 'cutover', 'revert', 'finalize'];
  const ORIGINS = { 'final-sync': 'final sync', periodic: 'periodic', requested: 'on request' };
  const RUNNING = ['queued', 'delivered', 'running'];
  let machine = null;    // the machine shown ({machine_id, hostname})
  let lc = null;         // its last GET …/lifecycle answer
  let mayAct = null;     // the user may act (operator or admin); null: not known yet
  let shownKey = '';     // what was last drawn: a poll that changes nothing redraws nothing
  let asking = null;     // the dialog's {action, point}
  const opened = new Map(); // job id -> log shown, as the operator left it

  const lcPath = (id) => '/api/v1/machines/' + encodeURIComponent(id) + '/lifecycle';
  function stateClass(s) {
    if (s === 'CUTOVER') return 'state ok';
    if (s === 'TESTING' || s === 'CUTTING_OVER') return 'state warn';
    return 'state';
  }

  // Whether the user may act: a viewer's page offers no action (the API
  // would refuse it with 403).
  function learnRole(session) {
    if (session && session.role) mayAct = session.role !== 'viewer';
  }

  function instanceText(i) {
    const what = (i.purpose === 'cutover' ? 'Cutover' : 'Test') + ` instance ${i.name} from point ${i.point}: `;
    if (i.state === 'up') return [what + 'up at ', el('strong', { 'data-field': 'address', text: i.address || '-' })];
    if (i.state === 'exported') return [what + 'exported' + (i.address ? ' (' + i.address + ')' : '')];
    if (i.state === 'destroying') return [what + 'being destroyed'];
    return [what + `launching (job #${i.job})`];
  }
  function whatText(l) {
    const running = (l.jobs || []).some((j) => RUNNING.includes(j.state));
    switch (l.state) {
      case 'READY_FOR_TEST':
        return 'Replicating. Test-launch a copy from a recovery point below: replication goes on while it runs.';
      case 'TESTING':
        return l.instance && l.instance.state === 'up'
          ? 'Check the test copy; then mark it ready for cutover (its instance is destroyed) or revert.'
          : 'A test copy is launching from a recovery point.';
      case 'READY_FOR_CUTOVER':
        return running ? 'The test instance is being destroyed.'
          : 'The test was good. Cutting over makes the agent take a final consistent point and launches the cutover copy from it.';
      case 'CUTTING_OVER':
        return l.cutover ? `Cutover asked by ${l.cutover.requested_by} at ${when(l.cutover.requested_at)}: ` +
          `waiting for the agent's final point (job #${l.cutover.job}).` : 'The cutover copy is launching.';
      case 'CUTOVER':
        return 'The cutover copy runs. Finalize to deregister the source machine (its license is freed, its agent uninstalls itself), or revert.';
      case 'FINALIZED':
        return l.finalized ? `Finalized by ${l.finalized.finalized_by} at ${when(l.finalized.finalized_at)}: ` +
          'the license is free and the agent uninstalls itself; staging keeps the points for their retention period.' : '';
      default:
        return '';
    }
  }

  function jobItem(j, newest) {
    const p = j.params || {};
    const kind = j.kind + (j.kind === 'launch' && p.purpose ? ` (${p.purpose})` : '') + (p.name ? ' ' + p.name : '');
    const end = j.ended ? ', ended ' + when(j.ended) : '';
    const log = j.log || [];
    let logBox = null;
    if (log.length) {
      // the newest job's lines and a failed job's (the serial tail) are shown
      const open = opened.has(j.id) ? opened.get(j.id) : (newest || j.state === 'failed');
      logBox = el('details', { open: open ? true : null },
        el('summary', { text: `${log.length} log line${log.length === 1 ? '' : 's'}` }),
        el('pre', { 'data-field': 'job-log', role: 'log', text: log.map((x) =>
          new Date(x.at * 1000).toLocaleTimeString() + '  ' + x.line).join('\n') }));
      logBox.addEventListener('toggle', () => opened.set(j.id, logBox.open));
    }
    return el('li', { 'data-job': String(j.id), className: j.state === 'failed' ? 'failed' : null },
      el('strong', { text: `#${j.id} ${kind}` }), ' ',
      el('span', { className: 'state' + (j.state === 'failed' ? ' bad' : (j.state === 'succeeded' ? ' ok' : ' warn')),
        'data-field': 'job-state', text: j.state }),
      el('div', { className: 'small muted', text: `by ${j.owner}, asked ${when(j.created)}${end}` +
        (j.staging ? ', on ' + j.staging : '') }),
      j.error ? el('div', { className: 'error small', 'data-field': 'job-error', text: j.error }) : null,
      logBox);
  }

  function pointRow(p, canTest) {
    let launch = null;
    if (canTest) {
      launch = el('button', { type: 'button', className: 'secondary', 'data-action': 'test',
        'aria-label': `Test launch from point ${p.id}`, text: 'Test launch…' });
      launch.addEventListener('click', () => ask('test', p));
    }
    return el('tr', { 'data-point': String(p.id) },
      el('td', { 'data-label': 'Point', text: String(p.id) }),
      el('td', { 'data-label': 'Time' }, el('time', { datetime: p.time, text: new Date(p.time).toLocaleString() })),
      el('td', { 'data-label': 'Made by', text: ORIGINS[p.origin] || p.origin }),
      el('td', { 'data-label': 'Consistency', text: p.consistency }),
      el('td', { 'data-label': 'Pinned', text: p.pinned ? 'pinned' + (p.pins && p.pins.length ? ' (' + p.pins.join(', ') + ')' : '') : 'no' }),
      el('td', { 'data-label': 'Staging', text: p.staging || '-' }),
      el('td', { 'data-label': '' }, launch));
  }

  function draw(l, pts) {
    const allowed = (l && l.allowed) || [];
    const list = (pts && pts.points) || [];
    const key = JSON.stringify([l, list, mayAct]);
    if (key === shownKey) return;
    shownKey = key;
    $('lc-viewer').hidden = mayAct !== false;
    if (l) {
      $('lc-state').textContent = l.state;
      $('lc-state').className = stateClass(l.state);
      $('lc-since').textContent = 'since ' + when(l.since);
      $('lc-what').textContent = whatText(l);
      $('lc-instance').hidden = !l.instance;
      if (l.instance) fill($('lc-instance'), ...instanceText(l.instance));
      const buttons = mayAct ? ORDER.filter((a) => allowed.includes(a)).map((a) => {
        const b = el('button', { type: 'button', id: 'lc-' + a, 'data-action': a,
          className: ACTIONS[a].danger ? 'danger' : null, text: ACTIONS[a].button + '…' });
        b.addEventListener('click', () => ask(a, null));
        return b;
      }) : [];
      const running = (l.jobs || []).find((j) => RUNNING.includes(j.state));
      if (mayAct && !allowed.length && running) {
        buttons.push(el('span', { className: 'muted small', text: `No action until job #${running.id} (${running.kind}) ends.` }));
      }
      fill($('lc-actions'), ...buttons);
      const jobs = l.jobs || [];
      $('lc-jobs-empty').hidden = !!jobs.length;
      fill($('lc-jobs'), ...jobs.map((j, i) => jobItem(j, i === 0)));
    }
    $('m-points').hidden = !list.length;
    $('m-points-empty').hidden = !!list.length;
    const canTest = !!mayAct && allowed.includes('test');
    fill($('m-points-body'), ...list.map((p) => pointRow(p, canTest)));
  }

  // The dialog says what the action does before anything is sent; what
  // the console answers (409 with its reason, 403) goes to the section.
  function ask(action, point) {
    if (!machine || !lc) return;
    const name = machine.hostname + ' (' + machine.machine_id + ')';
    const inst = lc.instance ? lc.instance.name : 'the launched instance';
    const what = {
      test: () => `A copy of point ${point.id} (${new Date(point.time).toLocaleString()}, ` +
        `${ORIGINS[point.origin] || point.origin}) is converted and started on its staging server's target, ` +
        `with its own host name and machine-id; replication goes on, and the point stays pinned while the test runs.`,
      'mark-ready': () => `The test was good: the test instance ${inst} is destroyed and the machine is ready for cutover.`,
      cutover: () => 'The agent takes a final consistent point (freezing its file systems for a moment where it can), ' +
        'and the cutover copy is launched from that point on the target.',
      revert: () => lc.state === 'CUTOVER'
        ? `The cutover instance ${inst} is destroyed and the machine goes back to READY_FOR_CUTOVER; the source keeps replicating.`
        : `The test instance ${inst} is destroyed and the machine goes back to READY_FOR_TEST.`,
      finalize: () => 'The machine is deregistered at once: its license is freed, and its agent stops replicating, ' +
        'uninstalls itself (configuration, credentials, state) and exits. Staging keeps the points for their ' +
        'retention period. This cannot be undone: replicating this machine again takes a new install.',
    }[action]();
    asking = { action, point: point ? point.id : null, machine: machine.machine_id };
    $('lc-d-title').textContent = action === 'test' ? `Test launch ${name} from point ${point.id}?`
      : `${ACTIONS[action].confirm} ${name}?`;
    $('lc-d-what').textContent = what;
    $('lc-d-confirm').textContent = ACTIONS[action].confirm;
    $('lc-d-confirm').className = ACTIONS[action].danger ? 'danger' : '';
    $('lc-d-confirm').disabled = false;
    $('lc-d-error').textContent = '';
    $('lc-error').textContent = '';
    $('lc-dialog').showModal();
  }
  $('lc-d-cancel').addEventListener('click', () => { asking = null; $('lc-dialog').close(); });
  $('lc-d-confirm').addEventListener('click', async () => {
    if (!asking) return;
    const { action, point, machine: id } = asking;
    $('lc-d-confirm').disabled = true;
    const body = { action };
    if (point !== null) body.point = point;
    const r = await api('POST', lcPath(id), body);
    asking = null;
    $('lc-dialog').close();
    if (r.status === 202) {
      $('lc-error').textContent = '';
      if (r.data && r.data.job) opened.set(r.data.job.id, true);
    } else {
      if (r.status === 403) mayAct = false;
      $('lc-error').textContent = `${ACTIONS[action].confirm} refused: ${errText(r)}`;
    }
    shownKey = '';
    h.changed();
  });

  return {
    // called with each poll's answers for the machine shown
    async refresh(session, m, pts) {
      machine = m;
      learnRole(session);
      const r = await api('GET', lcPath(m.machine_id));
      if (r.status === 200) lc = r.data;
      if (machine !== m) return;
      draw(lc, pts);
    },
    // another machine, or another user
    reset(signedOut) {
      machine = null;
      lc = null;
      shownKey = '';
      asking = null;
      if (signedOut) mayAct = null;
      opened.clear();
      if ($('lc-dialog').open) $('lc-dialog').close();
      $('lc-error').textContent = '';
      fill($('lc-actions'));
      fill($('lc-jobs'));
      fill($('m-points-body'));
      $('lc-state').textContent = '';
      $('lc-since').textContent = '';
      $('lc-what').textContent = '';
      $('lc-instance').hidden = true;
    },
  };
};
