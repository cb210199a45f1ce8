/**
 * 405 answers (RFC 9110 §15.5.6: with `Allow`) for known paths asked with
 * another method. Fastify routes by method first, so every endpoint that
 * serves a fixed set of methods registers a hidden guard route for the
 * others; the guard refuses in `onRequest`, before any body is read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HotdeskError } from '../../core/errors.js';

/** Methods a guard answers for (Node's parser refuses unknown ones itself). */
export const GUARDED_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Throws `method-not-allowed` with `Allow: <allowed>`. */
export function refuseMethod(reply: FastifyReply, allowed: readonly string[]): never {
  reply.header('Allow', allowed.join(', '));
  throw new HotdeskError('method-not-allowed');
}

/** Registers a hidden route on `url` that answers 405 to every method outside `allowed`. */
export function guardMethods(app: FastifyInstance, url: string, allowed: readonly string[]): void {
  const others = GUARDED_METHODS.filter((m) => !allowed.includes(m) && !(m === 'HEAD' && allowed.includes('GET')));
  if (others.length === 0) return;
  app.route({
    method: others,
    url,
    schema: { hide: true },
    config: { guard: true },
    onRequest: async (_request: FastifyRequest, reply: FastifyReply) => refuseMethod(reply, allowed),
    handler: async () => undefined,
  });
}
