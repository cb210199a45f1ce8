/**
 * Vendor HTTP re-sync triggers, used when a phone does not answer SIP NOTIFY
 * (docs/behaviour.md §9, docs/vendors.md "HTTP re-sync fallback"):
 * - Yealink: Action URI `GET /servlet?key=AutoP`, accepted from the IP set in
 *   `features.action_uri_limit_ip` (our files set it to the agent's address).
 * - Poly: REST `POST /api/v1/mgmt/updateConfiguration` (needs
 *   `apps.restapi.enabled="1"`; answered with 401 unless the site gives the
 *   phone's admin credential, which this agent does not hold: best effort).
 * - Snom: none (NOTIFY `check-sync;reboot=false` is reliable on Snom).
 */
import { request } from 'undici';
import type { Vendor } from '../../core/model.js';

/** How to poke one vendor over HTTP; data, not code, so a site can adjust it. */
export interface HttpResyncRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  readonly contentType?: string;
}

export const HTTP_RESYNC: Readonly<Record<Vendor, HttpResyncRequest | null>> = {
  yealink: { method: 'GET', path: '/servlet?key=AutoP' },
  poly: { method: 'POST', path: '/api/v1/mgmt/updateConfiguration', body: '{}', contentType: 'application/json' },
  snom: null,
};

/** Sends the vendor's trigger to `host:port`; true when the phone answered 2xx. */
export async function httpResync(vendor: Vendor, host: string, opts: { port?: number; timeoutMs?: number } = {}): Promise<boolean> {
  const how = HTTP_RESYNC[vendor];
  if (!how) return false;
  const port = opts.port ?? 80;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const res = await request(`http://${hostPart}:${port}${how.path}`, {
    method: how.method,
    headersTimeout: opts.timeoutMs ?? 3_000,
    bodyTimeout: opts.timeoutMs ?? 3_000,
    ...(how.body !== undefined ? { body: how.body, headers: { 'content-type': how.contentType ?? 'text/plain' } } : {}),
  });
  await res.body.dump();
  return res.statusCode >= 200 && res.statusCode < 300;
}
