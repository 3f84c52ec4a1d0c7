// SPDX-License-Identifier: GPL-2.0-or-later
// What the browser tests share: failing with a message, and waiting on an
// event. Every wait's bound only decides how long a hang takes to fail, so
// it is generous: a busy machine makes chromium, the agent and the console
// slow, never wrong.

export const fail = (msg) => { throw new Error(msg); };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// fn() until it returns something truthy (an exception counts as not yet)
export async function until(what, fn, timeoutMs = 60000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) fail(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}
