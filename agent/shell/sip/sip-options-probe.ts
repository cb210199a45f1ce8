/**
 * "Is the PBX registrar alive?": one SIP OPTIONS request over UDP (RFC 3261
 * §11, the capability query any UA or registrar must answer, usually 200), as
 * an RFC 3261 §17.1.2 non-INVITE client transaction (sip-transaction-driver.ts)
 * whose timer F is the probe's timeout. Any final answer, even 404 or 405,
 * proves a SIP stack listens. The answer's `Date` header (RFC 3261 §20.17)
 * gives the PBX clock.
 *
 * The socket is connected to the target, so an ICMP port-unreachable comes
 * back as ECONNREFUSED at once instead of a silent timeout.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { buildRequest, formatHost, getHeader, parseSipMessage, toBranch } from '../../protocols/sip-message.js';
import { SipTransactionDriver } from './sip-transaction-driver.js';

/** What the probe found. */
export type OptionsProbeResult =
  | { readonly kind: 'answered'; readonly status: number; readonly reason: string; readonly rttMs: number; readonly date?: string; readonly server?: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'timeout'; readonly waitedMs: number }
  | { readonly kind: 'error'; readonly message: string };

/** Options of {@link probeSipOptions}. */
export interface OptionsProbeOptions {
  readonly host: string;
  readonly port: number;
  /** Give up after this long (default 3000 ms). */
  readonly timeoutMs?: number;
  /** First retransmission interval (default 500 ms, RFC 3261 T1). */
  readonly t1Ms?: number;
}

const hex = (n: number): string => randomBytes(n).toString('hex');

/** Sends OPTIONS to `host:port` over UDP and waits for a final answer. */
export function probeSipOptions(o: OptionsProbeOptions): Promise<OptionsProbeResult> {
  const timeoutMs = o.timeoutMs ?? 3_000;
  const sock = dgram.createSocket(isIPv6(o.host) ? 'udp6' : 'udp4');
  const transactions = new SipTransactionDriver({ socket: sock, connected: true, timers: { t1Ms: o.t1Ms ?? 500, timeoutMs } });
  const branch = toBranch(hex(8));
  return new Promise<OptionsProbeResult>((resolve) => {
    let settled = false;
    const done = (r: OptionsProbeResult): void => {
      if (settled) return;
      settled = true;
      transactions.cancelAll();
      sock.close();
      resolve(r);
    };
    // Connected socket: an ICMP port-unreachable arrives as ECONNREFUSED.
    sock.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'error', message: e.code ?? e.message }));
    sock.on('message', (data, from) => {
      const parsed = parseSipMessage(data);
      if (parsed.ok && parsed.message.kind === 'response') transactions.receive(parsed.message, from);
    });
    sock.connect(o.port, o.host, () => {
      const local = sock.address();
      const sentBy = `${formatHost(local.address)}:${local.port}`;
      const target = `sip:${formatHost(o.host)}:${o.port}`;
      const wire = Buffer.from(
        buildRequest({
          method: 'OPTIONS',
          uri: target,
          headers: [
            { name: 'Via', value: `SIP/2.0/UDP ${sentBy};branch=${branch};rport` },
            { name: 'Max-Forwards', value: '70' },
            { name: 'From', value: `<sip:hotdesk-doctor@${sentBy}>;tag=${hex(4)}` },
            { name: 'To', value: `<${target}>` },
            { name: 'Call-ID', value: `${hex(12)}@hotdesk` },
            { name: 'CSeq', value: '1 OPTIONS' },
            { name: 'Accept', value: 'application/sdp' },
            { name: 'User-Agent', value: 'hotdesk-doctor' },
          ],
        }),
      );
      // The peer's address as connected (a name in `host` is resolved once, here).
      const peer = sock.remoteAddress();
      void transactions.start({ wire, branch, cseq: 1, method: 'OPTIONS', to: { host: peer.address, port: peer.port } }).then((outcome) => {
        switch (outcome.kind) {
          case 'final': {
            const res = outcome.response;
            const date = getHeader(res, 'Date');
            const server = getHeader(res, 'Server') ?? getHeader(res, 'User-Agent');
            return done({
              kind: 'answered',
              status: res.status,
              reason: res.reason,
              rttMs: outcome.elapsedMs,
              ...(date !== undefined ? { date } : {}),
              ...(server !== undefined ? { server: server.slice(0, 120) } : {}),
            });
          }
          case 'timeout':
            return done({ kind: 'timeout', waitedMs: timeoutMs });
          case 'unreachable':
            return done(outcome.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'error', message: outcome.code ?? outcome.reason });
          case 'cancelled':
            return undefined;
        }
      });
    });
  });
}
