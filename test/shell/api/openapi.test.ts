/**
 * The generated OpenAPI document against the routes the agent's HTTP server
 * really registers (collected with Fastify's `onRoute` hook): it is valid
 * OpenAPI 3.1 (checked by @apidevtools/swagger-parser against the official
 * schema), every registered API route is in it with its request schemas and
 * answer schemas, and the routes left out are exactly the phone-facing ones
 * and the 405 guards.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/agent-harness.js';

interface Operation {
  parameters?: Array<{ name: string; in: string; schema?: unknown }>;
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

let h: Harness;
let doc: Doc;
beforeAll(async () => {
  h = await startHarness();
  const r = await fetch(`${h.base}/api/v1/openapi.json`);
  expect(r.status).toBe(200);
  doc = (await r.json()) as Doc;
});
afterAll(async () => {
  await h.stop();
});

/** Fastify `/x/:mac` → OpenAPI `/x/{mac}`. */
const openApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');

describe('generated OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (official schema, every $ref resolves)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('describes every registered route with its request and answer schemas', () => {
    const documented = h.agent.http.routes.filter((r) => !r.hidden);
    expect(documented.length).toBeGreaterThanOrEqual(18);
    for (const r of documented) {
      const path = openApiPath(r.url);
      for (const method of r.methods.filter((m) => m !== 'HEAD')) {
        const op = doc.paths[path]?.[method.toLowerCase()];
        expect(op, `${method} ${path} is not in the document`).toBeDefined();
        if (!op) continue;
        // Request: every path parameter, and a body schema for the routes that take one.
        for (const name of [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1])) {
          expect(op.parameters?.find((p) => p.in === 'path' && p.name === name)?.schema, `${method} ${path}: path parameter ${name}`).toBeDefined();
        }
        // Answers: a success with a schema (204 has no body), and the refusals as problem+json.
        const statuses = Object.keys(op.responses);
        const success = statuses.filter((s) => /^(1|2)\d\d$/.test(s));
        expect(success.length, `${method} ${path}: no success answer`).toBeGreaterThan(0);
        for (const s of success.filter((x) => x !== '204')) {
          const content = Object.values(op.responses[s]?.content ?? {});
          expect(content.length > 0 && content.every((c) => c.schema !== undefined), `${method} ${path} ${s}: answer without schema`).toBe(true);
        }
        for (const s of statuses.filter((x) => /^4\d\d$/.test(x))) {
          expect(Object.keys(op.responses[s]?.content ?? {}), `${method} ${path} ${s}`).toEqual(['application/problem+json']);
        }
      }
    }
    // Bodies: the admin login and the PBX endpoint (JSON, and form-encoded for the PBX).
    expect(doc.paths['/api/v1/phones/{mac}/login']?.['post']?.requestBody?.content['application/json']?.schema).toBeDefined();
    expect(Object.keys(doc.paths['/api/v1/pbx/dial']?.['post']?.requestBody?.content ?? {})).toEqual(
      expect.arrayContaining(['application/json', 'application/x-www-form-urlencoded']),
    );
    // Queries: the audit filters.
    const audit = doc.paths['/api/v1/audit']?.['get']?.parameters?.filter((p) => p.in === 'query').map((p) => p.name);
    expect(audit).toEqual(expect.arrayContaining(['since', 'after', 'limit', 'phone', 'user', 'kind']));
  });

  it('documents nothing that is not served', () => {
    const served = new Set(h.agent.http.routes.filter((r) => !r.hidden).flatMap((r) => r.methods.map((m) => `${m.toLowerCase()} ${openApiPath(r.url)}`)));
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    for (const d of described) expect(served.has(d), d).toBe(true);
  });

  it('leaves out only the phone-facing routes, the 405 guards and the web console pages', () => {
    // The web console under /admin/ answers HTML to signed-in people (docs/console.md), not API clients.
    const pages = h.agent.http.routes.filter((r) => r.url.startsWith('/admin/'));
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.every((r) => r.hidden)).toBe(true);
    const hidden = h.agent.http.routes.filter((r) => r.hidden && !r.guard && !r.url.startsWith('/admin/')).map((r) => `${r.methods.join(',')} ${r.url}`);
    expect(hidden.sort()).toEqual(
      [
        'GET,HEAD /*',
        'PUT /*',
        'GET,HEAD /firmware/*',
        'GET,HEAD,POST,PUT,DELETE,PATCH,OPTIONS /xml/*',
        'GET,HEAD,POST,PUT,DELETE,PATCH,OPTIONS /action/*',
      ].sort(),
    );
  });
});
