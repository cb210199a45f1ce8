/**
 * The OpenAPI 3.1 description of the agent's admin and PBX API, served at
 * `GET /api/v1/openapi.json` (OpenAPI Specification 3.1.0; schemas are JSON
 * Schema 2020-12). A test checks that every endpoint the routes serve is
 * described here and that nothing else is.
 *
 * Pure data: no I/O.
 */
import { ERROR_CODES } from '../core/errors.js';
import type { AuditKind, OutcomeCode, PromptId } from '../core/model.js';

/** Every audit kind (compile-time complete via the Record). */
const KIND_SET: Record<AuditKind, true> = {
  login: true,
  logout: true,
  switch: true,
  'auto-logout': true,
  'wrong-pin': true,
  lockout: true,
  refused: true,
  enrolment: true,
  'sync-sent': true,
  'sync-confirmed': true,
  'sync-failed': true,
  'secret-served': true,
  'auth-failure': true,
  import: true,
  'pnp-sighting': true,
};
/** Every audit kind (the event stream's `kind` values). */
export const AUDIT_KINDS: readonly AuditKind[] = Object.keys(KIND_SET) as AuditKind[];

/** True when `k` is an audit kind. */
export function isAuditKind(k: string): k is AuditKind {
  return Object.prototype.hasOwnProperty.call(KIND_SET, k);
}

const PROMPT_SET: Record<PromptId, true> = {
  'ask-extension': true,
  'ask-pin': true,
  'logged-in': true,
  'logged-out': true,
  switched: true,
  'wrong-pin': true,
  locked: true,
  'not-allowed': true,
  'unknown-user': true,
  'already-logged-in': true,
  'not-hotdesk-code': true,
};
/** Every outcome code: each prompt, plus `no-change` (OutcomeCode = PromptId | 'no-change'). */
const OUTCOME_SET: Record<OutcomeCode, true> = { ...PROMPT_SET, 'no-change': true };

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): Json => ({ type: [type, 'null'] });

const problem = (description: string): Json => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const json = (description: string, schema: Json): Json => ({ description, content: { 'application/json': { schema } } });

const macParam: Json = {
  name: 'mac',
  in: 'path',
  required: true,
  description: 'Phone MAC address (12 hex digits; `:`, `-` and `.` separators accepted).',
  schema: { type: 'string', pattern: '^[0-9A-Fa-f:.\\-]{12,17}$' },
};

const authErrors: Json = { '401': problem('Token missing (`token-required`) or wrong (`token-invalid`).'), '429': problem('Too many wrong tokens from this source (`rate-limited`).') };

const schemas: Json = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details with the agent\'s stable error code.',
    required: ['type', 'title', 'status', 'code', 'detail'],
    properties: {
      type: { type: 'string', examples: ['urn:hotdesk:error:unknown-phone'] },
      title: { type: 'string' },
      status: { type: 'integer' },
      code: { type: 'string', enum: [...ERROR_CODES] },
      detail: { type: 'string' },
    },
  },
  Outcome: {
    type: 'object',
    description: 'What happened at the phone, and what to tell the person there. Never holds a PIN.',
    required: ['outcome', 'prompt', 'audio', 'message', 'text', 'phone'],
    properties: {
      outcome: { type: 'string', enum: Object.keys(OUTCOME_SET) },
      prompt: { type: ['string', 'null'], enum: [...Object.keys(PROMPT_SET), null] },
      audio: { ...nullable('string'), description: 'Audio file base name of the prompt (no directory, no extension).' },
      message: { type: 'string' },
      text: { type: 'string', description: 'Screen text of the prompt, placeholders filled.' },
      phone: { type: 'string' },
      user: { type: 'string', description: 'Short number now logged in, or just logged out.' },
      userName: { type: 'string' },
      previousUser: { type: 'string' },
      movedFrom: { type: 'string', description: 'Phone the user was moved away from.' },
      attemptsLeft: { type: 'integer' },
      lockedUntil: { type: 'integer', description: 'Epoch ms.' },
      duplicate: { type: 'boolean', description: 'The dial was already acted on (reported by both the PBX and the phone).' },
    },
  },
  DialRequest: {
    type: 'object',
    required: ['digits'],
    description: 'Give `mac`, or `caller` (the SIP user of the calling phone\'s device account or of the user logged in on it).',
    properties: {
      mac: { type: 'string' },
      caller: { type: 'string', description: 'SIP user (`101`, `sip:101@pbx` also accepted).' },
      digits: { type: 'string', examples: ['*35*101*1234'] },
    },
  },
  Sync: {
    type: ['object', 'null'],
    properties: {
      state: { type: 'string', enum: ['synced', 'pending', 'unreachable'] },
      revision: { type: 'integer' },
      requestedAt: nullable('integer'),
      confirmedAt: nullable('integer'),
      elapsedMs: nullable('integer'),
      attempts: { type: 'integer' },
    },
  },
  Phone: {
    type: 'object',
    required: ['mac', 'vendor', 'model', 'label', 'hotdesk', 'user', 'sync'],
    properties: {
      mac: { type: 'string' },
      vendor: { type: 'string', enum: ['yealink', 'snom', 'poly'] },
      model: { type: 'string' },
      label: { type: 'string' },
      location: { type: 'string' },
      hotdesk: { type: 'boolean' },
      deviceSipUser: nullable('string'),
      identities: { type: 'array', items: { type: 'string' } },
      keys: { type: 'array', items: { type: 'object' } },
      user: {
        type: ['object', 'null'],
        properties: { ext: { type: 'string' }, name: nullable('string'), since: { type: 'integer' } },
      },
      revision: nullable('integer'),
      enrolledVia: { type: ['string', 'null'], enum: ['directory', 'auto', null] },
      lastIp: nullable('string'),
      lastSeen: nullable('integer'),
      lastFirmware: nullable('string'),
      sync: ref('Sync'),
    },
  },
  User: {
    type: 'object',
    required: ['ext', 'name', 'hotdesk', 'sipUser', 'phones'],
    properties: {
      ext: { type: 'string' },
      name: { type: 'string' },
      hotdesk: { type: 'boolean' },
      sipUser: { type: 'string' },
      displayName: { type: 'string' },
      outboundCallerId: { type: 'string' },
      voicemailNumber: { type: 'string' },
      phones: { type: 'array', items: { type: 'string' }, description: 'MACs of the phones the user is logged in on.' },
    },
  },
  Session: {
    type: 'object',
    required: ['phone', 'user', 'startedAt'],
    properties: { phone: { type: 'string' }, user: { type: 'string' }, userName: nullable('string'), startedAt: { type: 'integer' } },
  },
  Sighting: {
    type: 'object',
    required: ['mac', 'vendor', 'model', 'knownModel', 'ip', 'via', 'firstAt', 'at', 'count'],
    properties: {
      mac: { type: 'string' },
      vendor: nullable('string'),
      model: nullable('string'),
      knownModel: { ...nullable('string'), description: 'Profiled model the sighting resolves to; null = cannot be accepted.' },
      ip: { type: 'string' },
      via: { type: 'string', enum: ['pnp', 'http', 'tftp'] },
      firstAt: { type: 'integer' },
      at: { type: 'integer' },
      count: { type: 'integer' },
    },
  },
  AuditEvent: {
    type: 'object',
    required: ['id', 'kind', 'at'],
    properties: {
      id: { type: 'integer' },
      kind: { type: 'string', enum: [...AUDIT_KINDS] },
      at: { type: 'integer', description: 'Epoch ms.' },
      phone: { type: 'string' },
      user: { type: 'string' },
      detail: { type: 'object' },
    },
  },
};

/** Builds the OpenAPI 3.1 document. */
export function buildOpenApi(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'hotdesk agent API',
      version: '1',
      description: 'Admin REST API, PBX feature-code endpoint and live event stream of the hot-desking agent. See docs/api.md and docs/pbx.md.',
    },
    security: [{ bearer: [] }, { headerToken: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'One of the site\'s `apiTokens`.' },
        headerToken: { type: 'apiKey', in: 'header', name: 'X-Hotdesk-Token' },
        queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'WebSocket upgrade only (browsers cannot set headers).' },
      },
      schemas,
    },
    paths: {
      '/api/v1/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': json('OpenAPI 3.1 document', { type: 'object' }) } },
      },
      '/api/v1/phones': {
        get: { summary: 'List phones with sync state, last contact and current user', responses: { '200': json('Phones', { type: 'object', properties: { phones: { type: 'array', items: ref('Phone') } } }), ...authErrors } },
      },
      '/api/v1/phones/{mac}': {
        get: { summary: 'One phone', parameters: [macParam], responses: { '200': json('The phone', ref('Phone')), '400': problem('Not a MAC'), '404': problem('`unknown-phone`'), ...authErrors } },
      },
      '/api/v1/phones/{mac}/login': {
        post: {
          summary: 'Log a user in on a phone (no PIN; site policies apply)',
          parameters: [macParam],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['ext'], properties: { ext: { type: 'string', pattern: '^[0-9]{1,15}$' } } } } } },
          responses: {
            '200': json('Logged in, switched, or already logged in there (`no-change`)', ref('Outcome')),
            '400': problem('`bad-request`'),
            '403': problem('`not-allowed`'),
            '404': problem('`unknown-phone` or `unknown-user`'),
            '409': problem('`already-logged-in` (policy `refuse`)'),
            ...authErrors,
          },
        },
      },
      '/api/v1/phones/{mac}/logout': {
        post: { summary: 'Log the current user out of a phone', parameters: [macParam], responses: { '200': json('Logged out', ref('Outcome')), '404': problem('`unknown-phone`'), '409': problem('`not-logged-in`'), ...authErrors } },
      },
      '/api/v1/phones/{mac}/reset-enrolment': {
        post: {
          summary: 'Forget the phone\'s own provisioning credential so the site bootstrap credential works again (factory-reset phone)',
          parameters: [macParam],
          responses: { '200': json('The phone', ref('Phone')), '404': problem('`unknown-phone`'), ...authErrors },
        },
      },
      '/api/v1/users': {
        get: { summary: 'List users (no secrets)', responses: { '200': json('Users', { type: 'object', properties: { users: { type: 'array', items: ref('User') } } }), ...authErrors } },
      },
      '/api/v1/sessions': {
        get: { summary: 'List sessions (who is logged in where)', responses: { '200': json('Sessions', { type: 'object', properties: { sessions: { type: 'array', items: ref('Session') } } }), ...authErrors } },
      },
      '/api/v1/sessions/{mac}': {
        delete: { summary: 'Force logout of the phone\'s session', parameters: [macParam], responses: { '200': json('Logged out', ref('Outcome')), '404': problem('`unknown-phone`'), '409': problem('`not-logged-in`'), ...authErrors } },
      },
      '/api/v1/sightings': {
        get: { summary: 'Unknown phones in quarantine (made contact without proving who they are)', responses: { '200': json('Sightings', { type: 'object', properties: { sightings: { type: 'array', items: ref('Sighting') } } }), ...authErrors } },
      },
      '/api/v1/sightings/{mac}/accept': {
        post: {
          summary: 'Enrol a sighted phone (hot-desk on, nobody logged in)',
          parameters: [macParam],
          responses: { '200': json('The phone', ref('Phone')), '404': problem('`unknown-phone` (no such sighting)'), '422': problem('`unknown-model`'), ...authErrors },
        },
      },
      '/api/v1/sightings/{mac}': {
        delete: { summary: 'Dismiss a sighting', parameters: [macParam], responses: { '204': { description: 'Dismissed' }, '404': problem('`unknown-phone` (no such sighting)'), ...authErrors } },
      },
      '/api/v1/audit': {
        get: {
          summary: 'Query the audit log (most recent first unless `after` is given)',
          parameters: [
            { name: 'since', in: 'query', description: 'Only events at or after this time (epoch ms or ISO 8601).', schema: { type: 'string' } },
            { name: 'after', in: 'query', description: 'Only events with a larger id; then the oldest first (paging, tailing).', schema: { type: 'integer', minimum: 0 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } },
            { name: 'phone', in: 'query', schema: { type: 'string' } },
            { name: 'user', in: 'query', schema: { type: 'string' } },
            { name: 'kind', in: 'query', description: 'Repeat or comma-separate.', schema: { type: 'array', items: { type: 'string', enum: [...AUDIT_KINDS] } }, style: 'form', explode: true },
          ],
          responses: { '200': json('Events', { type: 'object', properties: { events: { type: 'array', items: ref('AuditEvent') } } }), '400': problem('`bad-request`'), ...authErrors },
        },
      },
      '/api/v1/events': {
        get: {
          summary: 'Live event stream (WebSocket). Each message is one AuditEvent as JSON, in id order.',
          description: 'Upgrade to WebSocket. Token by header, or `?token=` for browsers. `?since=<id>` first replays stored events with a larger id, then continues live without gaps or duplicates.',
          security: [{ bearer: [] }, { headerToken: [] }, { queryToken: [] }],
          parameters: [{ name: 'since', in: 'query', description: 'Replay events with a larger id first.', schema: { type: 'integer', minimum: 0 } }],
          responses: { '101': { description: 'Switching protocols; messages are AuditEvent JSON.' }, '400': problem('Not a WebSocket upgrade, or bad `since`'), ...authErrors },
        },
      },
      '/api/v1/pbx/dial': {
        post: {
          summary: 'Feature-code dial reported by the PBX dialplan',
          description: 'Every hot-desk outcome is HTTP 200. With `?format=text` or `Accept: text/plain` the answer is one line `<outcome>,<prompt>,<audio>,<ext>` (errors: `error,<code>,,`).',
          parameters: [{ name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'text'] } }],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('DialRequest') },
              'application/x-www-form-urlencoded': { schema: ref('DialRequest') },
            },
          },
          responses: {
            '200': { description: 'The outcome', content: { 'application/json': { schema: ref('Outcome') }, 'text/plain': { schema: { type: 'string', examples: ['logged-in,logged-in,hotdesk-logged-in,101'] } } } },
            '400': problem('`bad-request`'),
            '404': problem('`unknown-phone`'),
            ...authErrors,
          },
        },
      },
    },
  };
}
