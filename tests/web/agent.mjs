// SPDX-License-Identifier: GPL-2.0-or-later
// Speaking for a registered machine's agent where the browser tests have
// none running: its status document, POSTed as its heartbeat is
// (docs/agent-console.md), with the secret registration gave it.
import { readFileSync } from 'node:fs';
import https from 'node:https';

// resolves on 200, rejects with the status code otherwise
export function agentStatus(consoleUrl, caFile, machine, secretFile, doc) {
  const secret = readFileSync(secretFile, 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.request(consoleUrl + '/api/v1/machines/' + machine + '/status', {
      method: 'POST', ca: readFileSync(caFile),
      headers: { Authorization: 'Bearer ' + secret, 'Content-Type': 'application/json' },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error('the agent\'s status: ' + res.statusCode))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(doc));
  });
}
