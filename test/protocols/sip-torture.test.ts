/**
 * RFC 4475 torture messages (test/fixtures/rfc4475/*.dat, byte-exact from the
 * RFC's archive) through the parser and the request/response checks, with
 * the answer the RFC expects of a UAS/registrar for each.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bodyText,
  getHeader,
  getHeaders,
  isRfc2543Via,
  parseSipMessage,
  parseSipUri,
  type SipRequest,
  type SipResponse,
  validateRequest,
  validateResponse,
} from '../../agent/protocols/sip-message.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'rfc4475');
const load = (name: string): Buffer => readFileSync(join(DIR, `${name}.dat`));
/** What the agent's SIP service allows (calls, registrar). */
const UAS = { allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'REGISTER'] };

function request(name: string): SipRequest {
  const r = parseSipMessage(load(name));
  if (!r.ok) throw new Error(`${name}: ${r.error}`);
  if (r.message.kind !== 'request') throw new Error(`${name}: not a request`);
  return r.message;
}

function response(name: string): SipResponse {
  const r = parseSipMessage(load(name));
  if (!r.ok) throw new Error(`${name}: ${r.error}`);
  if (r.message.kind !== 'response') throw new Error(`${name}: not a response`);
  return r.message;
}

describe('RFC 4475 §3.1.1 valid messages parse', () => {
  it.each([
    // [name, the answer our UAS gives (null: processed)]
    ['wsinv', null],
    ['esc01', null],
    ['escnull', null],
    ['lwsdisp', null],
    ['longreq', null],
    ['dblreq', null],
    ['semiuri', null],
    ['transports', null],
    // Well-formed, but methods the agent does not implement: 501 (RFC 3261 §21.5.2).
    ['intmeth', 501],
    ['esc02', 501],
    ['mpart01', 501],
  ] as const)('%s -> %s', (name, status) => {
    const req = request(name);
    expect(validateRequest(req)).toBeNull(); // syntactically and semantically valid
    expect(validateRequest(req, UAS)?.status ?? null).toBe(status);
  });

  it('wsinv: folding, odd spacing and case, unknown headers, compact forms', () => {
    const m = request('wsinv');
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(getHeader(m, 'Max-Forwards')).toBe('0068');
    expect(getHeader(m, 'CSeq')).toBe('0009 INVITE');
    expect(getHeaders(m, 'Via')).toHaveLength(3);
    expect(getHeader(m, 'NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(getHeader(m, 'UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(getHeader(m, 'To')).toBe('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
    expect(m.bodyBytes.length).toBe(150);
    expect(bodyText(m)?.startsWith('v=0\r\n')).toBe(true);
  });

  it('intmeth: the method is kept exactly, NUL/BEL/DEL in a quoted display name survive', () => {
    const m = request('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(getHeader(m, 'To')).toContain('\0');
    expect(getHeader(m, "extensionHeader-!.%*+_`'~")).toBe('\uFEFF大停電'); // UTF-8 value, no space after the colon
    expect(parseSipUri(m.uri)).toMatchObject({ user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", host: 'example.com' });
  });

  it('esc01 / escnull / semiuri: %-escapes decode in URI user parts only, %00 does not end the user', () => {
    expect(parseSipUri(request('esc01').uri)).toMatchObject({ user: 'sips:user@example.com', host: 'example.net' });
    expect(parseSipUri(getHeader(request('esc01'), 'To') ?? '')?.user).toBe('user');
    const nul = request('escnull');
    expect(parseSipUri(getHeader(nul, 'To') ?? '')?.user).toBe('null-\0-null');
    expect(getHeaders(nul, 'Contact')).toEqual(['<sip:%00@host5.example.com>', '<sip:%00%00@host5.example.com>']);
    expect(parseSipUri(request('semiuri').uri)).toMatchObject({ user: 'user;par=u@example.net', host: 'example.com' });
  });

  it('esc02: a %-escaped method is another method, a %-escaped header name another header', () => {
    const m = request('esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(getHeaders(m, 'Contact')).toHaveLength(2);
    expect(getHeader(m, 'C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  it('dblreq: octets after Content-Length are discarded (RFC 3261 §18.3)', () => {
    const m = request('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.bodyBytes.length).toBe(0);
  });

  it('mpart01: the binary body is kept byte-exact, no text view', () => {
    const raw = load('mpart01');
    const m = request('mpart01');
    expect(m.bodyBytes.length).toBe(553);
    expect(Buffer.from(m.bodyBytes).equals(raw.subarray(raw.length - 553))).toBe(true);
    expect(bodyText(m)).toBeNull();
  });

  it('unreason / noreason: unusual and empty reason phrases', () => {
    const u = response('unreason');
    expect(u.status).toBe(200);
    expect(u.reason).toMatch(/^= 2\*\*3 \* 5\*\*2 /);
    expect(validateResponse(u)).toBeNull();
    const n = response('noreason');
    expect(n.status).toBe(100);
    expect(n.reason).toBe('');
    expect(validateResponse(n)).toBeNull();
  });
});

describe('RFC 4475 §3.1.2 invalid messages', () => {
  it.each([
    // Framing / start-line errors: the parser refuses, and offers the answer (UDP: answer, RFC 3261 §18.3).
    ['clerr', 400],
    ['ncl', 400],
    ['ltgtruri', 400],
    ['lwsruri', 400],
    ['lwsstart', 400],
    ['trws', 400],
    ['badvers', 505],
    ['mcl01', 400], // §3.3.9, two different Content-Length values
  ] as const)('%s: parse error answered with %s', (name, status) => {
    const r = parseSipMessage(load(name));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reply?.status).toBe(status);
    expect(getHeader(r.reply?.request ?? { headers: [] }, 'Call-ID')).toMatch(new RegExp(`^${name}\\.`));
  });

  it.each([
    ['badinv01', 400],
    ['scalar02', 400],
    ['quotbal', 400],
    ['escruri', 400],
    ['regbadct', 400],
    ['badaspec', 400],
    ['baddn', 400],
    ['mismatch01', 400],
  ] as const)('%s: parses, validateRequest answers %s', (name, status) => {
    expect(validateRequest(request(name), UAS)?.status).toBe(status);
  });

  it('mismatch02: unknown method with a CSeq mismatch gets 501 (400 without a method list)', () => {
    expect(validateRequest(request('mismatch02'), UAS)).toMatchObject({ status: 501, headers: [{ name: 'Allow', value: UAS.allow.join(', ') }] });
    expect(validateRequest(request('mismatch02'))?.status).toBe(400);
  });

  it('baddate: a non-GMT Date is accepted (RFC 4475 §3.1.2.12: only reject when the Date matters; it never does here)', () => {
    expect(validateRequest(request('baddate'), UAS)).toBeNull();
  });

  it('bigcode / scalarlg: out-of-range responses are dropped', () => {
    expect(parseSipMessage(load('bigcode')).ok).toBe(false);
    expect(validateResponse(response('scalarlg'))).toBe('malformed CSeq');
  });
});

describe('RFC 4475 §3.2-§3.4 transaction and application layer', () => {
  it.each([
    ['badbranch', 400],
    ['insuf', 400],
    ['unkscm', 416],
    ['novelsc', 416],
    ['multi01', 400],
    ['sdp01', 406],
  ] as const)('%s -> %s', (name, status) => {
    expect(validateRequest(request(name), UAS)?.status).toBe(status);
  });

  it('bext01: 420 listing the unsupported Require tags; Proxy-Require is a proxy matter', () => {
    expect(validateRequest(request('bext01'), UAS)).toEqual({
      status: 420,
      reason: 'Bad Extension',
      headers: [{ name: 'Unsupported', value: 'nothingSupportsThis, nothingSupportsThisEither' }],
    });
    expect(validateRequest(request('bext01'), { ...UAS, supported: ['nothingsupportsthis', 'NothingSupportsThisEither'] })).toBeNull();
  });

  it('zeromf: Max-Forwards 0 is processed when the request is for us, 483 when it would be forwarded', () => {
    expect(validateRequest(request('zeromf'), UAS)).toBeNull();
    expect(validateRequest(request('zeromf'), { ...UAS, forUs: false })?.status).toBe(483);
  });

  it.each(['unksm2', 'invut', 'regaut01', 'cparam01', 'cparam02', 'regescrt'])(
    '%s passes validation (its answer is the registrar or call machine’s)',
    (name) => {
      expect(validateRequest(request(name), UAS)).toBeNull();
    },
  );

  it('bcast: a response with a second (broadcast) Via is not for us', () => {
    expect(validateResponse(response('bcast'))).toBe('more than one Via');
  });

  it('inv2543: an RFC 2543 INVITE (no branch, no Max-Forwards, no From tag) is accepted and flagged', () => {
    const m = request('inv2543');
    expect(validateRequest(m, UAS)).toBeNull();
    expect(isRfc2543Via(m)).toBe(true);
    expect(isRfc2543Via(request('wsinv'))).toBe(true); // branch=390skdjuw has no magic cookie
    expect(isRfc2543Via(request('lwsdisp'))).toBe(false);
    expect(m.bodyBytes.length).toBe(105); // no Content-Length on UDP: the rest of the datagram
  });

  it('every fixture parses or fails without throwing, and a truncated copy never throws', () => {
    for (const name of readdirNames()) {
      const raw = load(name);
      expect(() => parseSipMessage(raw)).not.toThrow();
      for (let cut = 1; cut < raw.length; cut += 37) {
        const r = parseSipMessage(raw.subarray(0, cut));
        if (r.ok && r.message.kind === 'request') expect(() => validateRequest(r.message as SipRequest, UAS)).not.toThrow();
      }
    }
  });
});

function readdirNames(): string[] {
  return ['wsinv', 'intmeth', 'esc01', 'escnull', 'esc02', 'lwsdisp', 'longreq', 'dblreq', 'semiuri', 'transports', 'mpart01', 'unreason', 'noreason']
    .concat(['badinv01', 'clerr', 'ncl', 'scalar02', 'scalarlg', 'quotbal', 'ltgtruri', 'lwsruri', 'lwsstart', 'trws', 'escruri', 'baddate'])
    .concat(['regbadct', 'badaspec', 'baddn', 'badvers', 'mismatch01', 'mismatch02', 'bigcode', 'badbranch', 'insuf', 'unkscm', 'novelsc'])
    .concat(['unksm2', 'bext01', 'invut', 'regaut01', 'multi01', 'mcl01', 'bcast', 'zeromf', 'cparam01', 'cparam02', 'regescrt', 'sdp01', 'inv2543']);
}
