/**
 * The one place where a failed HTTP request becomes an answer: Fastify's
 * error handler (and its `frameworkErrors` / not-found hooks) map every
 * {@link HotdeskError} to `application/problem+json` (RFC 9457) with the
 * status from `http-errors.ts`, and Fastify's own errors (schema validation,
 * bad JSON, oversize bodies, bad URLs) to our stable codes.
 *
 * Challenges travel with the refusal: a refused API token gets
 * `WWW-Authenticate: Bearer` (RFC 6750 §3), a refused or missing provisioning
 * credential a fresh digest challenge bound to the requester (RFC 7616 §3.3).
 * Routes that answer dialplans in text (the PBX endpoint) ask for the text form
 * through their route config. Route handlers never catch to answer.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HotdeskError, isHotdeskError } from '../../core/errors.js';
import { HTTP_STATUS, problemBody } from './http-errors.js';
import type { DigestAuthority } from '../provisioning/http-digest-auth.js';
import type { Logger } from '../logger.js';
import { recordRefusal } from '../api/metrics.js';
import { bearerChallenge } from '../api/api-auth.js';
import { remoteAddressOf } from './remote-address.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answer errors as the one-line `error,<code>,,` text when this says so (PBX dialplans). */
    readonly textErrors?: (request: FastifyRequest) => boolean;
    /** A 405 guard or catch-all, not an endpoint of its own (left out of the API description). */
    readonly guard?: boolean;
  }
}

/** What the error handler needs. */
export interface ErrorHandlingOptions {
  readonly log: Logger;
  readonly clock: () => number;
  /** Issues digest challenges for `auth-required` / `auth-failed` (provisioning). */
  readonly digest?: DigestAuthority;
}

/** Fastify's own error codes and what they mean to us. */
const FASTIFY_CODES: Readonly<Record<string, HotdeskError['code']>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'bad-request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad-request',
  FST_ERR_CTP_INVALID_TYPE: 'bad-request',
  FST_ERR_VALIDATION: 'bad-request',
  FST_ERR_BAD_URL: 'bad-request',
  FST_ERR_ASYNC_CONSTRAINT: 'bad-request',
};

const MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body is not valid JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'body is not valid JSON',
  FST_ERR_BAD_URL: 'malformed request target',
};

/** Turns anything thrown while answering into a coded error; unexpected ones are logged (never their request). */
export function toHotdeskError(e: unknown, log: Logger, request?: FastifyRequest): HotdeskError {
  if (isHotdeskError(e)) return e;
  const fe = e as Partial<FastifyError> | null;
  // Fastify's own request errors: known codes, schema validation, and any other client-side (4xx) refusal.
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 0;
  const code =
    (typeof fe?.code === 'string' ? FASTIFY_CODES[fe.code] : undefined) ??
    (status === 413 ? 'too-large' : status >= 400 && status < 500 && fe?.code?.startsWith('FST_') ? 'bad-request' : undefined);
  if (fe && (code !== undefined || fe.validation !== undefined)) {
    const message = (fe.code !== undefined ? MESSAGES[fe.code] : undefined) ?? (typeof fe.message === 'string' ? fe.message : undefined);
    return new HotdeskError(code ?? 'bad-request', message);
  }
  log.error('request failed', { route: request?.routeOptions.url ?? null, error: e instanceof Error ? e.stack : String(e) });
  return new HotdeskError('internal', 'internal error', {}, { cause: e });
}

/** Sends `err` as a problem (or the text form), with the challenge its code calls for. */
export function sendProblem(reply: FastifyReply, err: HotdeskError, o: ErrorHandlingOptions): FastifyReply {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return reply;
  }
  const status = HTTP_STATUS[err.code];
  if (err.code === 'token-required' || err.code === 'token-invalid') reply.header('WWW-Authenticate', bearerChallenge(err));
  if ((err.code === 'auth-required' || err.code === 'auth-failed') && o.digest) {
    reply.header('WWW-Authenticate', o.digest.challenge(o.clock(), err.detail['stale'] === true, remoteAddressOf(reply.request.raw)));
  }
  recordRefusal('http', err.code);
  const text = reply.request.routeOptions.config?.textErrors?.(reply.request) === true;
  reply.code(status).header('Cache-Control', 'no-store');
  if (text) return reply.type('text/plain; charset=utf-8').send(`error,${err.code},,`);
  return reply.type('application/problem+json').send(problemBody(err));
}

/** Fastify's `setErrorHandler` function for {@link ErrorHandlingOptions}. */
export function errorHandler(o: ErrorHandlingOptions): (e: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (e, request, reply) => sendProblem(reply, toHotdeskError(e, o.log, request), o);
}

/** Fastify's `frameworkErrors` option: bad URLs and the like before routing. */
export function frameworkErrors(o: ErrorHandlingOptions): (e: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (e, _request, reply) => void sendProblem(reply, toHotdeskError(e, o.log), o);
}
