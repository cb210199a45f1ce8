import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auth, POLY, startApiFixture, YEALINK, YEALINK2, type ApiFixture } from '../api/api-fixture.js';
import { parsePolyNotification } from '../../../agent/shell/phone/action-routes.js';
import { DialDedupe, dialKey } from '../../../agent/shell/api/dial-dedupe.js';

let fx: ApiFixture;
beforeEach(async () => {
  fx = await startApiFixture();
});
afterEach(async () => {
  await fx.close();
});

/** What a Yealink sends for `action_url.outgoing_call = <base>/...?mac=$mac&remote=$remote`. */
const yealinkOutgoing = (mac: string, token: string, remote: string, macQuery: string = mac) =>
  fetch(`${fx.base}/action/${mac}/${encodeURIComponent(token)}/outgoing?mac=${macQuery}&remote=${encodeURIComponent(remote)}`);

const polyXml = (mac: string, called: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<PolycomIPPhone><OutgoingCallEvent><PhoneIP>10.0.0.23</PhoneIP><MACAddress>${mac}</MACAddress>` +
  `<CallingPartyName>Desk 03</CallingPartyName><CallingPartyNumber>sip:desk03@10.0.0.1</CallingPartyNumber>` +
  `<CalledPartyName></CalledPartyName><CalledPartyNumber>${called}</CalledPartyNumber><TimeStamp>2025-06-15T10:00:00+02:00</TimeStamp></OutgoingCallEvent></PolycomIPPhone>`;

const pbxDial = (mac: string, digits: string) =>
  fetch(`${fx.base}/api/v1/pbx/dial`, { method: 'POST', headers: auth({ 'Content-Type': 'application/json' }), body: JSON.stringify({ mac, digits }) });

const logins = () => fx.store.queryAudit({ kinds: ['login'] }).length;

describe('Yealink/Snom outgoing-call action URL', () => {
  it('logs in from a SIP URI remote and answers 200 with the outcome code', async () => {
    const r = await yealinkOutgoing(YEALINK, fx.screenToken(YEALINK), 'sip:*35*101*4321@10.0.0.1');
    expect(r.status).toBe(200);
    expect((await r.text()).trim()).toBe('logged-in');
    expect(fx.store.sessionOf(YEALINK)?.userExt).toBe('101');
  });

  it('accepts a remote that the phone URL-encoded once more, and colon MACs in the query', async () => {
    const r = await yealinkOutgoing(YEALINK, fx.screenToken(YEALINK), 'sip:%2A35%2A102%2A8765%40pbx', '00:15:65:aa:bb:01');
    expect(r.status).toBe(200);
    expect(fx.store.sessionOf(YEALINK)?.userExt).toBe('102');
  });

  it('ignores ordinary calls with 204 and changes nothing', async () => {
    const r = await yealinkOutgoing(YEALINK, fx.screenToken(YEALINK), 'sip:0123456789@10.0.0.1');
    expect(r.status).toBe(204);
    expect(fx.store.queryAudit({ afterId: fx.auditBaseline })).toHaveLength(0);
  });

  it('refuses a wrong token with 403 screen-token-invalid', async () => {
    const r = await yealinkOutgoing(YEALINK, fx.screenToken(YEALINK2), 'sip:*35*101*4321@10.0.0.1');
    expect(r.status).toBe(403);
    expect(((await r.json()) as { code: string }).code).toBe('screen-token-invalid');
    expect(fx.store.sessionOf(YEALINK)).toBeUndefined();
  });

  it('refuses a mac query that disagrees with the path', async () => {
    const r = await yealinkOutgoing(YEALINK, fx.screenToken(YEALINK), 'sip:*35*101*4321@10.0.0.1', YEALINK2);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { code: string }).code).toBe('screen-token-invalid');
    expect(fx.store.sessionOf(YEALINK)).toBeUndefined();
  });

  it('answers an unknown phone exactly like a wrong token', async () => {
    const r = await yealinkOutgoing('001565000099', fx.screenToken(YEALINK), 'sip:*35@10.0.0.1');
    expect(r.status).toBe(403);
    expect(((await r.json()) as { code: string }).code).toBe('screen-token-invalid');
  });

  it('answers 400 without remote', async () => {
    const r = await fetch(`${fx.base}/action/${YEALINK}/${fx.screenToken(YEALINK)}/outgoing?mac=${YEALINK}`);
    expect(r.status).toBe(400);
  });
});

describe('dedupe: the same dial from the PBX and from the phone acts once', () => {
  it('PBX first, then the Yealink action URL: one login, same outcome', async () => {
    const a = (await (await pbxDial(YEALINK, '*35*101*4321')).json()) as Record<string, unknown>;
    expect(a).toMatchObject({ outcome: 'logged-in', duplicate: false });
    const b = await yealinkOutgoing(YEALINK, fx.screenToken(YEALINK), 'sip:%2A35%2A101%2A4321@10.0.0.1');
    expect((await b.text()).trim()).toBe('logged-in');
    expect(logins()).toBe(1);
    expect(fx.store.sessionOf(YEALINK)?.userExt).toBe('101');
    // Without dedupe the second report would have logged 101 out again.
    expect(fx.store.queryAudit({ kinds: ['logout'] })).toHaveLength(0);
  });

  it('phone first, then the PBX: the PBX gets the first outcome, marked duplicate', async () => {
    await yealinkOutgoing(YEALINK, fx.screenToken(YEALINK), 'sip:*35*102*8765@10.0.0.1');
    const b = (await (await pbxDial(YEALINK, '*35*102*8765#')).json()) as Record<string, unknown>;
    expect(b).toMatchObject({ outcome: 'logged-in', user: '102', duplicate: true });
    expect(logins()).toBe(1);
  });

  it('acts again after the window', async () => {
    await pbxDial(YEALINK, '*35*101*4321');
    fx.advance(10_001);
    const b = (await (await pbxDial(YEALINK, '*35*101*4321')).json()) as Record<string, unknown>;
    expect(b).toMatchObject({ outcome: 'logged-out', duplicate: false });
  });

  it('does not merge different phones or different digits', async () => {
    await pbxDial(YEALINK, '*35*101*4321');
    const b = (await (await pbxDial(YEALINK2, '*35*102*8765')).json()) as Record<string, unknown>;
    expect(b).toMatchObject({ outcome: 'logged-in', duplicate: false });
    const c = (await (await pbxDial(YEALINK, '*35*102*8765')).json()) as Record<string, unknown>;
    expect(c).toMatchObject({ outcome: 'switched', duplicate: false });
  });
});

describe('Poly telephony notification', () => {
  const post = (mac: string, token: string, body: string, type = 'application/xml') =>
    fetch(`${fx.base}/action/${mac}/${encodeURIComponent(token)}/poly`, { method: 'POST', headers: { 'Content-Type': type }, body });

  it('logs in from an OutgoingCallEvent', async () => {
    const r = await post(POLY, fx.screenToken(POLY), polyXml('0004f2aabb03', 'sip:*35*001*1234@10.0.0.1'));
    expect(r.status).toBe(200);
    expect((await r.text()).trim()).toBe('logged-in');
    expect(fx.store.sessionOf(POLY)?.userExt).toBe('001');
  });

  it('accepts the XML as a form field', async () => {
    const r = await post(
      POLY,
      fx.screenToken(POLY),
      `PolycomIPPhone=${encodeURIComponent(polyXml('0004F2AABB03', 'sip:*35*101*4321@pbx'))}`,
      'application/x-www-form-urlencoded',
    );
    expect(r.status).toBe(200);
    expect(fx.store.sessionOf(POLY)?.userExt).toBe('101');
  });

  it('ignores ordinary calls and other events with 204', async () => {
    expect((await post(POLY, fx.screenToken(POLY), polyXml('0004f2aabb03', 'sip:200@10.0.0.1'))).status).toBe(204);
    const other = '<PolycomIPPhone><IncomingCallEvent><CallingPartyNumber>sip:200@pbx</CallingPartyNumber></IncomingCallEvent></PolycomIPPhone>';
    expect((await post(POLY, fx.screenToken(POLY), other)).status).toBe(204);
    expect(fx.store.queryAudit({ afterId: fx.auditBaseline })).toHaveLength(0);
  });

  it('refuses a MACAddress that disagrees with the path', async () => {
    const r = await post(POLY, fx.screenToken(POLY), polyXml('0004f2aabb99', 'sip:*35*001*1234@10.0.0.1'));
    expect(r.status).toBe(403);
    expect(fx.store.sessionOf(POLY)).toBeUndefined();
  });

  it('refuses a wrong token before reading the body', async () => {
    const r = await post(POLY, 'wrong', polyXml('0004f2aabb03', 'sip:*35*001*1234@10.0.0.1'));
    expect(r.status).toBe(403);
  });

  it('refuses malformed XML, DTDs and oversized bodies', async () => {
    expect((await post(POLY, fx.screenToken(POLY), '<PolycomIPPhone><OutgoingCallEvent>')).status).toBe(400);
    expect((await post(POLY, fx.screenToken(POLY), '<!DOCTYPE x [<!ENTITY a "b">]><PolycomIPPhone/>')).status).toBe(400);
    expect((await post(POLY, fx.screenToken(POLY), `<PolycomIPPhone>${'<x/>'.repeat(5000)}</PolycomIPPhone>`)).status).toBe(413);
  });

  it('answers 405 for GET', async () => {
    expect((await fetch(`${fx.base}/action/${POLY}/${fx.screenToken(POLY)}/poly`)).status).toBe(405);
  });
});

describe('parsePolyNotification', () => {
  it('keeps leading zeros and the full called URI', () => {
    expect(parsePolyNotification(polyXml('0004f2aabb03', 'sip:*35*001*0012@h'))).toEqual({ mac: '0004f2aabb03', called: 'sip:*35*001*0012@h' });
  });
});

describe('DialDedupe', () => {
  it('normalises SIP URIs and plain digits to the same key, and separates phones', () => {
    expect(dialKey(YEALINK, 'sip:%2A35%2A101%2A4321@pbx', '*35')).toBe(dialKey(YEALINK, '*35*101*4321#', '*35'));
    expect(dialKey(YEALINK, '*35*101*4321', '*35')).not.toBe(dialKey(YEALINK2, '*35*101*4321', '*35'));
    expect(dialKey(YEALINK, '0123', '*35')).toBeNull();
  });

  it('keys carry no PIN in clear', () => {
    expect(dialKey(YEALINK, '*35*101*987654', '*35')).not.toContain('987654');
  });

  it('is bounded and forgets after the window', () => {
    let now = 0;
    const d = new DialDedupe<number>({ clock: () => now, windowMs: 100, maxEntries: 3 });
    let calls = 0;
    for (const k of ['a', 'b', 'c', 'd']) d.run(k, () => ++calls);
    expect(d.size).toBe(3);
    expect(d.run('a', () => ++calls)).toEqual({ value: 5, duplicate: false });
    expect(d.run('d', () => ++calls)).toEqual({ value: 4, duplicate: true });
    now = 100;
    expect(d.run('d', () => ++calls).duplicate).toBe(false);
    expect(d.size).toBe(1);
  });

  it('remembers nothing when the action throws', () => {
    const d = new DialDedupe<number>({ clock: () => 0 });
    expect(() =>
      d.run('k', () => {
        throw new Error('x');
      }),
    ).toThrow();
    expect(d.run('k', () => 1)).toEqual({ value: 1, duplicate: false });
  });
});
