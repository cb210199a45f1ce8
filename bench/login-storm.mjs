// Login storm: the PBX reports `*35*<ext>*<pin>` dialled on phone <mac>
// (`POST /api/v1/pbx/dial`, bearer token) for distinct users on distinct,
// logged-out phones, closed loop with `concurrency` requests in flight. For
// each login we measure the HTTP answer time and the time from the request
// start to the check-sync NOTIFY for that phone arriving on the phones' SIP
// socket (sip-phones.mjs). After a NOTIFY the simulated phone fetches its new
// file (as a real phone does), which confirms the sync so the agent does not
// retry.
//
// With several origins (`origins`, e.g. two agents sharing one PostgreSQL
// database) the requests alternate between them: login k goes to
// origins[k % origins.length], as a PBX with two dial targets would spread them.
import { Pool } from 'undici';
import { percentile } from './lib.mjs';

/**
 * @param {object} o
 * @param {string} [o.origin]                   the agent's HTTP origin ...
 * @param {string[]} [o.origins]                 ... or several: requests alternate between them
 * @param {string} o.token                       PBX API token
 * @param {Array<{mac:string,ext:string,pin:string,sipUser:string}>} o.pairs  one login each, in order
 * @param {number} o.concurrency
 * @param {number} o.durationMs
 * @param {(handler: ((n:{user:string,at:number})=>void) | null) => void} o.setNotifyHandler
 * @param {(pair:object) => void} [o.onNotified]  e.g. the phone re-fetches its file
 * @param {number} [o.drainMs]                   how long to wait for late NOTIFYs
 */
export async function runLoginStorm(o) {
  const origins = o.origins ?? [o.origin];
  // each origin may get every request in flight at one moment, so each pool can open `concurrency` connections
  const pools = origins.map((origin) => new Pool(origin, { connections: o.concurrency, pipelining: 1 }));
  const loginsPerOrigin = origins.map(() => 0);
  const pending = new Map(); // sipUser -> { t0, pair }
  const answerMs = [];
  const notifyMs = [];
  const outcomes = {};
  let next = 0;
  let errors = 0;
  let firstError = null;
  o.setNotifyHandler(({ user, at }) => {
    const p = pending.get(user);
    if (!p) return; // a retry, or a NOTIFY for a phone of another scenario
    pending.delete(user);
    notifyMs.push(at - p.t0);
    o.onNotified?.(p.pair);
  });
  const started = performance.now();
  const deadline = started + o.durationMs;
  async function worker() {
    while (performance.now() < deadline && next < o.pairs.length) {
      const k = next++;
      const pair = o.pairs[k];
      const at = k % pools.length;
      const t0 = performance.now();
      pending.set(pair.sipUser, { t0, pair });
      try {
        const res = await pools[at].request({
          method: 'POST',
          path: '/api/v1/pbx/dial',
          headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ mac: pair.mac, digits: `*35*${pair.ext}*${pair.pin}` }),
        });
        const text = await res.body.text();
        answerMs.push(performance.now() - t0);
        let outcome = `http-${res.statusCode}`;
        if (res.statusCode === 200) outcome = JSON.parse(text).outcome;
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (outcome === 'logged-in') loginsPerOrigin[at]++;
        if (outcome !== 'logged-in') {
          pending.delete(pair.sipUser);
          firstError ??= `${outcome}: ${text.slice(0, 200)}`;
        }
      } catch (e) {
        errors++;
        pending.delete(pair.sipUser);
        firstError ??= String(e.message ?? e);
      }
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const drainUntil = performance.now() + (o.drainMs ?? 5000);
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  const missing = pending.size;
  // a NOTIFY that never came counts as infinitely late in the percentiles
  for (let i = 0; i < missing; i++) notifyMs.push(Infinity);
  o.setNotifyHandler(null);
  await Promise.all(pools.map((p) => p.close()));
  const logins = outcomes['logged-in'] ?? 0;
  return {
    used: next,
    logins,
    loginsPerOrigin,
    outcomes,
    errors,
    firstError,
    elapsedMs,
    perSecond: logins / (elapsedMs / 1000),
    answerP50: percentile(answerMs, 50),
    answerP99: percentile(answerMs, 99),
    notifyP50: percentile(notifyMs, 50),
    notifyP99: percentile(notifyMs, 99),
    notified: notifyMs.length - missing,
    missing,
  };
}
