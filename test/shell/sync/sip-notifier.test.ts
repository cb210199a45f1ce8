import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isHotdeskError } from '../../../agent/core/errors.js';
import { digestResponse, parseDigestParams } from '../../../agent/protocols/digest.js';
import { buildDigestAuthorization, parseDigestChallenge } from '../../../agent/protocols/sip-digest.js';
import { buildResponseTo, getHeader, parseSipMessage, parseVia, type SipRequest } from '../../../agent/protocols/sip-message.js';
import { SipNotifier } from '../../../agent/shell/sync/sip-notifier.js';
import { startSipp as startSippShared } from '../../helpers/sipp.js';

const _FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sipp');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Runs sipp as a UAS (a phone); killed after the test. */
async function startSipp(scenario: string): Promise<{ port: number; exit: Promise<{ code: number | null; out: string }> }> {
  const run = await startSippShared(scenario);
  cleanups.push(() => run.kill());
  return run;
}

/** A raw UDP "phone" whose behaviour the test scripts per received request. */
async function rawPhone(
  onRequest: (req: SipRequest, raw: Buffer, reply: (wire: string) => void, n: number) => void,
): Promise<{ port: number; received: SipRequest[] }> {
  const s = dgram.createSocket('udp4');
  const received: SipRequest[] = [];
  s.on('message', (msg, rinfo) => {
    const p = parseSipMessage(msg);
    if (!p.ok || p.message.kind !== 'request') return;
    received.push(p.message);
    onRequest(p.message, msg, (wire) => s.send(wire, rinfo.port, rinfo.address), received.length);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return { port: s.address().port, received };
}

function notifier(opts: ConstructorParameters<typeof SipNotifier>[0] = {}): SipNotifier {
  const n = new SipNotifier({ host: '127.0.0.1', t1Ms: 50, t2Ms: 400, timeoutMs: 10_000, ...opts });
  cleanups.push(() => n.close());
  return n;
}

describe('SipNotifier against sipp playing a phone', () => {
  it('delivers check-sync and gets 200 (sipp asserts Event, Subscription-State, Max-Forwards, branch)', async () => {
    const phone = await startSipp('check-sync-uas.xml');
    const r = await notifier().notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101' });
    expect(r.status).toBe(200);
    expect(r.attempts).toBeGreaterThanOrEqual(1);
    const { code, out } = await phone.exit;
    expect(code, out).toBe(0);
  });

  it('sends the Snom event check-sync;reboot=false', async () => {
    const phone = await startSipp('check-sync-snom-uas.xml');
    const r = await notifier().notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync;reboot=false', requestUser: '000413aabbcc' });
    expect(r.status).toBe(200);
    expect((await phone.exit).code).toBe(0);
  });

  it('a sipp phone fails its call when the event is wrong (the fixture can fail)', async () => {
    const phone = await startSipp('check-sync-snom-uas.xml');
    await notifier().notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101' });
    expect((await phone.exit).code).not.toBe(0);
  });

  it('answers a 401 challenge with a digest that sipp verifies', async () => {
    const phone = await startSipp('check-sync-auth-uas.xml');
    const r = await notifier().notify({
      host: '127.0.0.1',
      port: phone.port,
      event: 'check-sync',
      requestUser: '101',
      credentials: { username: '101', password: 'line-secret' },
      realm: 'phone.example',
    });
    expect(r.status).toBe(200); // sipp answers 403 when verifyauth fails
    expect(r.attempts).toBeGreaterThanOrEqual(2);
    expect((await phone.exit).code).toBe(0);
  });

  it('with a wrong password the sipp phone answers 403 and the status is returned, not thrown', async () => {
    const phone = await startSipp('check-sync-auth-uas.xml');
    const r = await notifier().notify({
      host: '127.0.0.1',
      port: phone.port,
      event: 'check-sync',
      requestUser: '101',
      credentials: { username: '101', password: 'wrong' },
      realm: 'phone.example',
    });
    expect(r.status).toBe(403);
    // sipp's exit (it waits for its own timeout after a failed verifyauth) says nothing more here;
    // the cleanup kills it.
    void phone.exit;
  });
});

// sipp recognises our retransmission as a retransmission and will not play a phone
// that "loses" the first NOTIFY, so loss is played by a raw UDP socket below.
describe('SipNotifier transaction rules (raw UDP phone)', () => {
  it('retransmits the identical datagram and rejects with sip-timeout after timer F', async () => {
    const raws: string[] = [];
    const phone = await rawPhone((_req, raw) => raws.push(raw.toString('utf8')));
    const n = notifier({ t1Ms: 20, t2Ms: 160, timeoutMs: 64 * 20 });
    const err = await n.notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101' }).catch((e: unknown) => e);
    expect(isHotdeskError(err, 'sip-timeout')).toBe(true);
    expect(raws.length).toBeGreaterThanOrEqual(3);
    expect(new Set(raws).size).toBe(1); // same branch, same CSeq: a retransmission, not a new request
    expect(n.inFlight).toBe(0);
  });

  it('ignores the first datagram, answers the retransmission; 1xx keeps the transaction alive', async () => {
    const phone = await rawPhone((req, _raw, reply, count) => {
      if (count === 1) return; // lost
      if (count === 2) reply(buildResponseTo(req, { status: 100 }));
      if (count === 3) reply(buildResponseTo(req, { status: 200, toTag: 'p1' }));
    });
    const r = await notifier().notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101' });
    expect(r).toMatchObject({ status: 200, attempts: 3 });
  });

  it('ignores responses with a foreign branch or CSeq', async () => {
    const phone = await rawPhone((req, _raw, reply, count) => {
      const via = getHeader(req, 'Via') ?? '';
      if (count === 1) {
        reply(
          buildResponseTo(
            { ...req, headers: req.headers.map((h) => (h.name === 'Via' ? { ...h, value: via.replace(/branch=[^;]+/, 'branch=z9hG4bKother') } : h)) },
            { status: 486 },
          ),
        );
        reply(buildResponseTo({ ...req, headers: req.headers.map((h) => (h.name === 'CSeq' ? { ...h, value: '99 NOTIFY' } : h)) }, { status: 487 }));
        reply('garbage\r\n\r\n');
        reply(buildResponseTo(req, { status: 202 }));
      }
    });
    const r = await notifier().notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101' });
    expect(r.status).toBe(202);
  });

  it('answers 407 with Proxy-Authorization, new branch, CSeq+1; SHA-256 challenge', async () => {
    const phone = await rawPhone((req, _raw, reply, count) => {
      if (count === 1) {
        reply(
          buildResponseTo(req, {
            status: 407,
            headers: [
              { name: 'Proxy-Authenticate', value: 'Digest realm="pbx", nonce="n0nce", qop="auth", algorithm=SHA-512-256' },
              { name: 'Proxy-Authenticate', value: 'Digest realm="pbx", nonce="n0nce", qop="auth", algorithm=SHA-256' },
            ],
          }),
        );
        return;
      }
      reply(buildResponseTo(req, { status: 200 }));
    });
    const r = await notifier().notify({
      host: '127.0.0.1',
      port: phone.port,
      event: 'check-sync',
      requestUser: '101',
      credentials: { username: 'u', password: 'p' },
      realm: 'pbx',
    });
    expect(r.status).toBe(200);
    const [first, second] = phone.received;
    expect(getHeader(first!, 'CSeq')).toBe('1 NOTIFY');
    expect(getHeader(second!, 'CSeq')).toBe('2 NOTIFY');
    expect(parseVia(getHeader(second!, 'Via') ?? '')?.branch).not.toBe(parseVia(getHeader(first!, 'Via') ?? '')?.branch);
    expect(getHeader(second!, 'Call-ID')).toBe(getHeader(first!, 'Call-ID'));
    const auth = getHeader(second!, 'Proxy-Authorization') ?? '';
    const p = parseDigestParams(auth.replace(/^Digest /, ''));
    expect(p.get('algorithm')).toBe('SHA-256');
    const expected = digestResponse({
      algorithm: 'SHA-256',
      username: 'u',
      realm: 'pbx',
      password: 'p',
      method: 'NOTIFY',
      uri: second!.uri,
      nonce: 'n0nce',
      qop: 'auth',
      nc: p.get('nc') ?? '',
      cnonce: p.get('cnonce') ?? '',
    });
    expect(p.get('response')).toBe(expected);
    expect(auth).not.toContain('"p"');
  });

  it('returns 401 without credentials, and a second 401 after answering once', async () => {
    const challenge = 'Digest realm="phone", nonce="abc", qop="auth"';
    const phone = await rawPhone((req, _raw, reply) => reply(buildResponseTo(req, { status: 401, headers: [{ name: 'WWW-Authenticate', value: challenge }] })));
    const n = notifier();
    expect((await n.notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101' })).status).toBe(401);
    const r = await n.notify({
      host: '127.0.0.1',
      port: phone.port,
      event: 'check-sync',
      requestUser: '101',
      credentials: { username: 'a', password: 'b' },
      realm: 'phone',
    });
    expect(r).toMatchObject({ status: 401, attempts: 2 });
    expect(
      buildDigestAuthorization({ challenge: parseDigestChallenge(challenge)!, username: 'a', password: 'b', method: 'NOTIFY', uri: 'sip:x', cnonce: 'c' }),
    ).toContain('qop=auth');
  });

  it('never answers a challenge for a realm other than the configured one, nor without one: no credentials leave', async () => {
    const seen: string[] = [];
    const phone = await rawPhone((req, raw, reply) => {
      seen.push(raw.toString('utf8'));
      reply(buildResponseTo(req, { status: 401, headers: [{ name: 'WWW-Authenticate', value: 'Digest realm="attacker", nonce="abc", qop="auth"' }] }));
    });
    const n = notifier();
    const creds = { username: 'alice-auth', password: 'line-secret' };
    const foreign = await n.notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101', credentials: creds, realm: 'pbx.example' });
    expect(foreign).toMatchObject({ status: 401, attempts: 1 });
    const unset = await n.notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101', credentials: creds });
    expect(unset).toMatchObject({ status: 401, attempts: 1 });
    expect(seen).toHaveLength(2);
    for (const m of seen) {
      expect(m).not.toMatch(/^Authorization:/im);
      expect(m).not.toContain('alice-auth');
    }
  });

  it('ignores answers from any address but the one the NOTIFY went to: a stranger cannot challenge for the phone', async () => {
    // The "phone" stays silent; a stranger on another loopback address, who saw the NOTIFY, answers 401 with the right branch.
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.2', () => r()));
    const phone = await rawPhone((req) => {
      const res = buildResponseTo(req, { status: 401, headers: [{ name: 'WWW-Authenticate', value: 'Digest realm="pbx.example", nonce="abc", qop="auth"' }] });
      stranger.send(Buffer.from(res), n.port, '127.0.0.1');
    });
    const n = notifier({ t1Ms: 20, t2Ms: 40, timeoutMs: 400 });
    await n.start();
    const err = await n
      .notify({
        host: '127.0.0.1',
        port: phone.port,
        event: 'check-sync',
        requestUser: '101',
        credentials: { username: 'u', password: 'p' },
        realm: 'pbx.example',
      })
      .catch((e: unknown) => e);
    stranger.close();
    expect(isHotdeskError(err, 'sip-timeout')).toBe(true);
    // every datagram the phone got is an unauthenticated retransmission
    expect(phone.received.length).toBeGreaterThan(1);
    for (const m of phone.received) expect(getHeader(m, 'Authorization')).toBeUndefined();
  });

  it('a silent phone does not hold up concurrent notifies on the same socket', async () => {
    const silent = await rawPhone(() => undefined);
    const answering = await rawPhone((req, _raw, reply) => reply(buildResponseTo(req, { status: 200 })));
    const n = notifier({ timeoutMs: 20_000 });
    let silentSettled = false;
    const slow = n
      .notify({ host: '127.0.0.1', port: silent.port, event: 'check-sync', requestUser: 'x' })
      .catch((e: unknown) => e)
      .finally(() => {
        silentSettled = true;
      });
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => n.notify({ host: '127.0.0.1', port: answering.port, event: 'check-sync', requestUser: `u${i}` })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(silentSettled).toBe(false);
    expect(n.inFlight).toBe(1);
    await n.close();
    expect(isHotdeskError(await slow, 'internal')).toBe(true);
  });

  it('the NOTIFY is well formed: Request-URI, Via rport and sent-by port, tags, headers', async () => {
    const phone = await rawPhone((req, _raw, reply) => reply(buildResponseTo(req, { status: 200 })));
    const n = notifier();
    await n.notify({ host: '127.0.0.1', port: phone.port, event: 'check-sync', requestUser: '101' });
    const req = phone.received[0]!;
    expect(req.method).toBe('NOTIFY');
    expect(req.uri).toBe(`sip:101@127.0.0.1:${phone.port}`);
    const via = parseVia(getHeader(req, 'Via') ?? '');
    expect(via).toMatchObject({ transport: 'UDP', host: '127.0.0.1', port: n.port, rport: '' });
    expect(via?.branch).toMatch(/^z9hG4bK[0-9a-f]{20}$/);
    expect(getHeader(req, 'From')).toMatch(/;tag=[0-9a-f]+$/);
    expect(getHeader(req, 'Subscription-State')).toBe('terminated');
    expect(getHeader(req, 'Content-Length')).toBe('0');
  });

  it('a NOTIFY the host refuses to send rejects with sip-unreachable at once, not sip-timeout', async () => {
    // Broadcast without SO_BROADCAST: the kernel refuses the datagram (EACCES).
    const n = notifier({ timeoutMs: 60_000 });
    const err = await n.notify({ host: '255.255.255.255', port: 5060, event: 'check-sync', requestUser: '101' }).catch((e: unknown) => e);
    expect(isHotdeskError(err, 'sip-unreachable')).toBe(true);
    expect((err as { detail: Record<string, unknown> }).detail).toMatchObject({ host: '255.255.255.255', port: 5060 });
    expect(n.inFlight).toBe(0);
  });

  it('binding a taken port rejects with port-in-use', async () => {
    const a = notifier();
    await a.start();
    const b = notifier({ port: a.port });
    const err = await b.start().catch((e: unknown) => e);
    expect(isHotdeskError(err, 'port-in-use')).toBe(true);
  });
});
