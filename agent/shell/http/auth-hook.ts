/**
 * API token authentication as a Fastify `onRequest` hook (docs/api.md
 * "Tokens"): runs before the body is read, so a refused request costs no body
 * parsing. The check itself is `authorize` in api-auth.ts: Bearer or
 * `X-Hotdesk-Token` (RFC 6750 §2.1), compared in constant time, a blocked
 * source refused first, every wrong token counted in the shared
 * `FailureLimiter`. Refusals go to the one error handler (error-handler.ts),
 * which adds the `WWW-Authenticate` challenge.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorize, type AuthorizeDeps } from '../api/api-auth.js';

/** An `onRequest` hook. */
export type RequestHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * A hook that refuses requests without a valid API token.
 *
 * @param allowQuery accept `?token=` too (the WebSocket upgrade only: browsers cannot set headers)
 */
export function tokenAuth(deps: AuthorizeDeps, allowQuery = false): RequestHook {
  return async (request) => {
    const url = allowQuery ? new URL(request.raw.url ?? '/', 'http://agent.invalid') : null;
    await authorize(deps, request.raw, url, allowQuery);
  };
}
