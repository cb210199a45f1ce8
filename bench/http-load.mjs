// HTTP boot-storm load generator: N concurrent "phones" fetch their own
// config file (`GET /<mac>.cfg`) with their real User-Agent, optionally with
// HTTP digest authentication (RFC 7616 / RFC 2617, MD5, qop=auth).
//
// Closed loop: each of `concurrency` workers sends a fetch, waits for the
// whole body, records the latency and starts the next one, for `durationMs`.
// One undici Pool with one keep-alive connection per worker, the same for
// every server measured.
//
// Digest modes:
//   'none'      - plain GET (nginx serving the same bytes as static files)
//   'reuse'     - preemptive digest: a worker keeps the nonce of its last
//                 challenge and sends `Authorization` with the next nc, as HTTP
//                 clients (and phones fetching several files) do. One request
//                 per fetch; a stale nonce costs one extra 401 round trip.
//   'challenge' - every fetch is GET -> 401 -> GET with credentials (two
//                 requests per fetch): what a phone does on its first contact.
import { createHash, randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { percentile } from './lib.mjs';

const md5 = (s) => createHash('md5').update(s, 'utf8').digest('hex');

/** Picks the MD5 `Digest` challenge out of WWW-Authenticate header value(s). */
export function parseChallenge(header) {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  // undici joins repeated headers into an array; a single header may list several challenges too.
  const challenges = values.flatMap((v) => v.split(/,\s*(?=Digest\s)/i));
  const pick = challenges.find((c) => /^\s*Digest\s/i.test(c) && /algorithm="?MD5"?(?:[,\s]|$)/i.test(c)) ?? challenges.find((c) => /^\s*Digest\s/i.test(c));
  if (!pick) return null;
  const params = {};
  for (const m of pick.matchAll(/([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) params[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  if (!params.nonce || params.realm === undefined) return null;
  return { realm: params.realm, nonce: params.nonce, qop: params.qop, opaque: params.opaque };
}

/** Builds an `Authorization: Digest` value for one request (nc is a number). */
export function digestAuthorization({ username, password }, challenge, method, uri, nc) {
  const ha1 = md5(`${username}:${challenge.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const ncHex = nc.toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const useQop = challenge.qop
    ?.split(',')
    .map((s) => s.trim())
    .includes('auth');
  const response = useQop ? md5(`${ha1}:${challenge.nonce}:${ncHex}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${challenge.nonce}:${ha2}`);
  let h = `Digest username="${username}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${uri}", algorithm=MD5, response="${response}"`;
  if (useQop) h += `, qop=auth, nc=${ncHex}, cnonce="${cnonce}"`;
  if (challenge.opaque !== undefined) h += `, opaque="${challenge.opaque}"`;
  return h;
}

async function get(pool, path, userAgent, authorization) {
  const headers = { 'user-agent': userAgent };
  if (authorization) headers.authorization = authorization;
  const res = await pool.request({ method: 'GET', path, headers });
  const body = await res.body.arrayBuffer();
  return { status: res.statusCode, headers: res.headers, bytes: body.byteLength, body };
}

/**
 * Runs one closed-loop storm.
 * @param {object} o
 * @param {string} o.origin         e.g. http://127.0.0.1:8080
 * @param {Array<{path:string,userAgent:string}>} o.targets  fetched round-robin
 * @param {number} o.concurrency
 * @param {number} o.durationMs
 * @param {'none'|'reuse'|'challenge'} o.auth
 * @param {{username:string,password:string}} [o.credential]
 * @param {(t:object, body:ArrayBuffer)=>void} [o.onBody]  called for every 200 (used to copy bytes for nginx)
 * @param {number} [o.maxFetches]   stop after this many fetches (used for a single pass over all phones)
 */
export async function runHttpLoad(o) {
  const pool = new Pool(o.origin, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies = [];
  const status = {};
  let next = 0;
  let fetches = 0;
  let requests = 0;
  let errors = 0;
  let bytes = 0;
  const started = performance.now();
  const deadline = started + o.durationMs;
  const count = (s) => {
    status[s] = (status[s] ?? 0) + 1;
  };

  async function worker() {
    let challenge = null;
    let nc = 0;
    while (performance.now() < deadline && (o.maxFetches === undefined || next < o.maxFetches)) {
      const t = o.targets[next++ % o.targets.length];
      const t0 = performance.now();
      try {
        let r;
        if (o.auth === 'none') {
          r = await get(pool, t.path, t.userAgent);
          requests++;
        } else {
          if (o.auth === 'challenge' || challenge === null) {
            const first = await get(pool, t.path, t.userAgent);
            requests++;
            if (first.status !== 401) {
              r = first;
            } else {
              challenge = parseChallenge(first.headers['www-authenticate']);
              nc = 0;
            }
          }
          if (!r) {
            r = await get(pool, t.path, t.userAgent, digestAuthorization(o.credential, challenge, 'GET', t.path, ++nc));
            requests++;
            if (r.status === 401) {
              // stale nonce (or refused): take the fresh challenge and retry once
              challenge = parseChallenge(r.headers['www-authenticate']);
              nc = 0;
              if (challenge) {
                r = await get(pool, t.path, t.userAgent, digestAuthorization(o.credential, challenge, 'GET', t.path, ++nc));
                requests++;
              }
            }
          }
        }
        count(r.status);
        if (r.status === 200) {
          latencies.push(performance.now() - t0);
          fetches++;
          bytes += r.bytes;
          o.onBody?.(t, r.body);
        } else {
          errors++;
        }
      } catch (e) {
        errors++;
        count(e.code ?? 'error');
      }
    }
  }

  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  await pool.close();
  return {
    fetches,
    requests,
    errors,
    bytes,
    status,
    elapsedMs,
    perSecond: fetches / (elapsedMs / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
