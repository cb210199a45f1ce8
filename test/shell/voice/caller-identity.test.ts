import { afterEach, describe, expect, it } from 'vitest';
import { digestResponse } from '../../../agent/protocols/digest.js';
import { AllowList } from '../../../agent/protocols/cidr.js';
import { parseSipMessage, type SipRequest } from '../../../agent/protocols/sip-message.js';
import { DigestAuthority } from '../../../agent/shell/provisioning/http-digest-auth.js';
import { handleRegister } from '../../../agent/shell/voice/registrar.js';
import { identifyCaller, phoneOfSipUser } from '../../../agent/shell/voice/caller-identity.js';
import { sqliteStore } from '../../../agent/store/sqlite-store.js';
import { demoStore, SNOM, YEALINK } from '../../store/helpers.js';

const NOW = 1_700_000_000_000;

function request(method: string, user: string, extra: string[] = [], uri = 'sip:*35*001*1234@10.0.0.2:5070'): SipRequest {
  const wire = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.50:5062;branch=z9hG4bK-1;rport',
    `From: <sip:${user}@10.0.0.2>;tag=a1`,
    `To: <sip:${method === 'REGISTER' ? user : '*35*001*1234'}@10.0.0.2>`,
    'Call-ID: c1@10.0.0.50',
    `CSeq: 1 ${method}`,
    'Contact: <sip:phone@10.0.0.50:5062>',
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const p = parseSipMessage(wire);
  if (!p.ok || p.message.kind !== 'request') throw new Error('bad test request');
  return p.message;
}

function authorization(challenge: string, user: string, password: string, method: string, uri: string): string {
  const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1] ?? '';
  const response = digestResponse({
    algorithm: 'MD5',
    username: user,
    realm: 'hotdesk',
    password,
    method,
    uri,
    nonce,
    qop: 'auth',
    nc: '00000001',
    cnonce: 'c0ffee',
  });
  return `Authorization: Digest username="${user}", realm="hotdesk", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`;
}

describe('who calls the agent', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('a phone on its hot-desk line is known after the digest with its own line password, and only then', async () => {
    const s = await demoStore(NOW);
    cleanup = s.cleanup;
    const line = s.store.getHotdeskLine(YEALINK);
    if (!line) throw new Error('the demo Yealink has a hot-desk line');
    const digest = new DigestAuthority('hotdesk');
    const o = { store: sqliteStore(s.store), digest, pbxAddresses: null, now: NOW };
    const first = await identifyCaller(request('INVITE', line.username), '10.0.0.50', o);
    expect(first.kind).toBe('challenge');
    const challenge = first.kind === 'challenge' ? (first.headers[0] ?? '') : '';
    expect(challenge).toMatch(/^Digest realm="hotdesk", qop="auth", algorithm=MD5, nonce="/);
    const uri = 'sip:*35*001*1234@10.0.0.2:5070';
    const good = request('INVITE', line.username, [authorization(challenge, line.username, line.password, 'INVITE', uri)]);
    expect(await identifyCaller(good, '10.0.0.50', o)).toEqual({ kind: 'line', mac: YEALINK, username: line.username });
    // The same answer again is a replay: challenged again.
    expect((await identifyCaller(good, '10.0.0.50', o)).kind).toBe('challenge');
    // Another phone's password, or an unknown user, get the same fresh challenge.
    const snom = s.store.getHotdeskLine(SNOM);
    const wrong = request('INVITE', line.username, [authorization(challenge, line.username, snom?.password ?? 'x', 'INVITE', uri)]);
    expect((await identifyCaller(wrong, '10.0.0.50', o)).kind).toBe('challenge');
    const unknown = request('INVITE', 'hd-ffffffffffff', [authorization(challenge, 'hd-ffffffffffff', 'whatever', 'INVITE', uri)]);
    expect((await identifyCaller(unknown, '10.0.0.50', o)).kind).toBe('challenge');
    // The nonce is bound to the address it was sent to.
    const c2 = await identifyCaller(request('INVITE', line.username), '10.0.0.50', o);
    const moved = request('INVITE', line.username, [
      authorization(c2.kind === 'challenge' ? (c2.headers[0] ?? '') : '', line.username, line.password, 'INVITE', uri),
    ]);
    expect((await identifyCaller(moved, '10.0.0.99', o)).kind).toBe('challenge');
  });

  it('a listed PBX is trusted by address and the phone is found from the From user; nobody else is', async () => {
    const s = await demoStore(NOW);
    cleanup = s.cleanup;
    const digest = new DigestAuthority('hotdesk');
    const pbx = new AllowList(['192.0.2.20/32']);
    // Nobody logged in and no device account: no phone has SIP user 101 yet.
    expect(await identifyCaller(request('INVITE', '101'), '192.0.2.20', { store: sqliteStore(s.store), digest, pbxAddresses: pbx, now: NOW })).toEqual({
      kind: 'unknown-caller',
      fromUser: '101',
    });
    s.store.startSession({ phoneMac: SNOM, userExt: '101', startedAt: NOW }, true);
    const sipUser = s.store.getUser('101')?.sip.user ?? '';
    expect(await phoneOfSipUser(sqliteStore(s.store), sipUser)).toBe(SNOM);
    expect(await identifyCaller(request('INVITE', sipUser), '192.0.2.20', { store: sqliteStore(s.store), digest, pbxAddresses: pbx, now: NOW })).toMatchObject({
      kind: 'pbx',
      mac: SNOM,
    });
    // The same request from an address not listed must authenticate.
    expect((await identifyCaller(request('INVITE', sipUser), '192.0.2.21', { store: sqliteStore(s.store), digest, pbxAddresses: pbx, now: NOW })).kind).toBe(
      'challenge',
    );
  });

  it('REGISTER stores the binding at the source address; the line then counts as registered until it lapses', async () => {
    const s = await demoStore(NOW);
    cleanup = s.cleanup;
    const line = s.store.getHotdeskLine(YEALINK);
    if (!line) throw new Error('no line');
    const r = await handleRegister({
      store: sqliteStore(s.store),
      request: request('REGISTER', line.username, ['Expires: 600'], 'sip:10.0.0.2:5070'),
      source: { address: '10.0.0.50', port: 5062 },
      mac: YEALINK,
      username: line.username,
      now: NOW,
      userAgent: 'hotdesk',
      toTag: 't1',
    });
    expect(r.status).toBe(200);
    expect(r.change).toBe('registered');
    expect(r.response).toMatch(/\r\nContact: <sip:phone@10\.0\.0\.50:5062>;expires=600\r\n/);
    const reg = s.store.getHotdeskLine(YEALINK)?.registration;
    expect(reg).toMatchObject({ address: '10.0.0.50', port: 5062, contact: 'sip:phone@10.0.0.50:5062', expiresAt: NOW + 600_000 });
    const kinds = s.store.queryAudit({ limit: 50 }).map((e) => e.kind);
    expect(kinds).toContain('line-registered');
  });
});
