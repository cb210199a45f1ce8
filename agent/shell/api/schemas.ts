/**
 * TypeBox schemas of the HTTP API: request bodies, queries, path parameters
 * and every answer. Fastify validates requests with them, serialises answers
 * with them, and @fastify/swagger builds the OpenAPI document from them
 * (components named by `$id`). Views (views.ts) are typed from them, so a view
 * and its schema cannot drift apart.
 *
 * Open views (`additionalProperties: true`) keep any field a view adds even
 * before its schema lists it; every field a client may rely on is listed.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from '../../core/errors.js';
import { AUDIT_KINDS, type OutcomeCode, type PromptId } from '../../core/model.js';

/** A string enum as JSON Schema `enum` (what OpenAPI readers and our tests expect), typed as the union. */
function StringEnum<T extends string>(values: readonly T[], options: Record<string, unknown> = {}) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}
const Nullable = <T extends TSchema>(t: T, options: Record<string, unknown> = {}) => Type.Union([t, Type.Null()], options);

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
/** Every prompt id (compile-time complete via the Record). */
export const PROMPT_IDS = Object.keys(PROMPT_SET) as PromptId[];
/** Every outcome code: each prompt, plus `no-change`. */
export const OUTCOME_CODES: readonly OutcomeCode[] = [...PROMPT_IDS, 'no-change'];

/** RFC 9457 problem details with the agent's stable code. */
export const Problem = Type.Object(
  {
    type: Type.String({ examples: ['urn:hotdesk:error:unknown-phone'] }),
    title: Type.String(),
    status: Type.Integer(),
    code: StringEnum(ERROR_CODES),
    detail: Type.String(),
  },
  { $id: 'Problem', description: "RFC 9457 problem details with the agent's stable error code." },
);

/** What happened at the phone, and what to tell the person there. */
export const Outcome = Type.Object(
  {
    outcome: StringEnum(OUTCOME_CODES),
    prompt: Nullable(StringEnum(PROMPT_IDS)),
    audio: Nullable(Type.String(), { description: 'Audio file base name of the prompt (no directory, no extension).' }),
    message: Type.String(),
    text: Type.String({ description: 'Screen text of the prompt, placeholders filled.' }),
    phone: Type.String(),
    user: Type.Optional(Type.String({ description: 'Short number now logged in, or just logged out.' })),
    userName: Type.Optional(Type.String()),
    previousUser: Type.Optional(Type.String()),
    movedFrom: Type.Optional(Type.String({ description: 'Phone the user was moved away from.' })),
    attemptsLeft: Type.Optional(Type.Integer()),
    lockedUntil: Type.Optional(Type.Integer({ description: 'Epoch ms.' })),
    duplicate: Type.Optional(Type.Boolean({ description: 'The dial was already acted on (reported by both the PBX and the phone).' })),
  },
  { $id: 'Outcome', description: 'What happened at the phone, and what to tell the person there. Never holds a PIN.', additionalProperties: true },
);
export type OutcomeView = Static<typeof Outcome>;

/** A PBX dial report (JSON or form-encoded). */
export const DialRequest = Type.Object(
  {
    mac: Type.Optional(Type.String({ maxLength: 512 })),
    caller: Type.Optional(Type.String({ maxLength: 512, description: 'SIP user (`101`, `sip:101@pbx` also accepted).' })),
    digits: Type.String({ minLength: 1, maxLength: 512, examples: ['*35*101*1234'] }),
  },
  { $id: 'DialRequest', description: "Give `mac`, or `caller` (the SIP user of the calling phone's device account or of the user logged in on it)." },
);

const Sync = Nullable(
  Type.Object({
    state: StringEnum(['synced', 'pending', 'unreachable'] as const),
    revision: Type.Integer(),
    requestedAt: Nullable(Type.Integer()),
    confirmedAt: Nullable(Type.Integer()),
    elapsedMs: Nullable(Type.Integer()),
    attempts: Type.Integer(),
  }),
);

const PhoneKey = Type.Object(
  { kind: Type.String(), label: Type.String(), value: Type.Optional(Type.String()), line: Type.Optional(Type.Integer()) },
  { additionalProperties: true },
);

/** A phone with its runtime facts and session; never a secret. */
export const Phone = Type.Object(
  {
    mac: Type.String(),
    vendor: StringEnum(['yealink', 'snom', 'poly'] as const),
    model: Type.String(),
    label: Type.String(),
    location: Type.Optional(Type.String()),
    hotdesk: Type.Boolean(),
    deviceSipUser: Nullable(Type.String()),
    identities: Type.Array(Type.String()),
    keys: Type.Array(PhoneKey),
    user: Nullable(Type.Object({ ext: Type.String(), name: Nullable(Type.String()), since: Type.Integer() })),
    revision: Nullable(Type.Integer()),
    enrolledVia: Nullable(StringEnum(['directory', 'auto'] as const)),
    lastIp: Nullable(Type.String()),
    lastSeen: Nullable(Type.Integer()),
    lastFirmware: Nullable(Type.String()),
    sync: Sync,
    hotdeskLine: Nullable(
      Type.Object(
        {
          username: Type.String(),
          registered: Type.Boolean(),
          address: Nullable(Type.String()),
          port: Nullable(Type.Integer()),
          userAgent: Nullable(Type.String()),
          registeredAt: Nullable(Type.Integer()),
          expiresAt: Nullable(Type.Integer()),
        },
        { description: "The phone's hot-desk line (docs/voice.md): its SIP username and registration at the agent; never its password." },
      ),
    ),
  },
  { $id: 'Phone', additionalProperties: true },
);
export type PhoneView = Static<typeof Phone>;

/** A user; never a SIP password or PIN. */
export const User = Type.Object(
  {
    ext: Type.String(),
    name: Type.String(),
    hotdesk: Type.Boolean(),
    sipUser: Type.String(),
    displayName: Type.String(),
    outboundCallerId: Type.Optional(Type.String()),
    voicemailNumber: Type.Optional(Type.String()),
    phones: Type.Array(Type.String(), { description: 'MACs of the phones the user is logged in on.' }),
  },
  { $id: 'User', additionalProperties: true },
);
export type UserView = Static<typeof User>;

/** Who is logged in where. */
export const Session = Type.Object(
  { phone: Type.String(), phoneLabel: Nullable(Type.String()), user: Type.String(), userName: Nullable(Type.String()), startedAt: Type.Integer() },
  { $id: 'Session', additionalProperties: true },
);
export type SessionView = Static<typeof Session>;

/** An unknown phone in quarantine. */
export const Sighting = Type.Object(
  {
    mac: Type.String(),
    vendor: Nullable(Type.String()),
    model: Nullable(Type.String()),
    knownModel: Nullable(Type.String(), { description: 'Profiled model the sighting resolves to; null = cannot be accepted.' }),
    ip: Type.String(),
    via: StringEnum(['pnp', 'http', 'tftp'] as const),
    firstAt: Type.Integer(),
    at: Type.Integer(),
    count: Type.Integer(),
  },
  { $id: 'Sighting', additionalProperties: true },
);

/** One audit event (REST and the live stream). */
export const AuditEvent = Type.Object(
  {
    id: Type.Integer(),
    kind: StringEnum(AUDIT_KINDS),
    at: Type.Integer({ description: 'Epoch ms.' }),
    phone: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    agent: Type.Optional(Type.String({ description: 'The agent that wrote the event (shared PostgreSQL store, docs/scaling.md); absent on SQLite.' })),
  },
  { $id: 'AuditEvent', additionalProperties: true },
);
export type AuditEventView = Static<typeof AuditEvent>;

/** Shared schemas, registered once with `app.addSchema` (OpenAPI components). */
export const SHARED_SCHEMAS: readonly TSchema[] = [Problem, Outcome, DialRequest, Phone, User, Session, Sighting, AuditEvent];

/** `{mac}` path parameter: a MAC in any common notation (checked by the handler). */
export const MacParams = Type.Object({
  mac: Type.String({ maxLength: 64, description: 'Phone MAC address (12 hex digits; `:`, `-` and `.` separators accepted).' }),
});

/** Digits only (a non-negative integer in a query string). */
const Digits = (description?: string) => Type.String({ pattern: '^[0-9]{1,15}$', ...(description ? { description } : {}) });

/** `GET /api/v1/audit` query. */
export const AuditQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 64, description: 'Only events at or after this time (epoch ms or ISO 8601).' })),
  after: Type.Optional(Digits('Only events with a larger id; then the oldest first (paging, tailing).')),
  limit: Type.Optional(Digits('1 to 10000 (default 100).')),
  phone: Type.Optional(Type.String({ maxLength: 64 })),
  user: Type.Optional(Type.String({ maxLength: 64 })),
  kind: Type.Optional(
    Type.Union([Type.String({ maxLength: 1024 }), Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64 })], {
      description: `Repeat or comma-separate; one of ${AUDIT_KINDS.join(', ')}.`,
    }),
  ),
});

/** The event stream's upgrade query. */
export const EventsQuery = Type.Object({
  since: Type.Optional(Digits('Replay stored events with a larger id first.')),
  after: Type.Optional(Digits('Same as `since`.')),
  token: Type.Optional(Type.String({ maxLength: 512, description: 'API token (browsers cannot set headers on a WebSocket).' })),
});

/** `?format=` of the PBX endpoint. */
export const PbxQuery = Type.Object({
  format: Type.Optional(Type.String({ maxLength: 16, description: '`text` for the one-line answer, `json` (default).' })),
});

/** A problem answer for OpenAPI (content type `application/problem+json`). */
export function problem(description: string) {
  return { description, content: { 'application/problem+json': { schema: Type.Ref(Problem) } } };
}

/** The refusals every token-protected route can answer. */
export const AUTH_ERRORS = {
  401: problem('Token missing (`token-required`) or wrong (`token-invalid`).'),
  429: problem('Too many wrong tokens from this source (`rate-limited`).'),
};

/** JSON answer for OpenAPI. */
export function json<T extends TSchema>(description: string, schema: T) {
  return { description, content: { 'application/json': { schema } } };
}
