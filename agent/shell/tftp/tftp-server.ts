/**
 * Read-only TFTP server: a thin `node:dgram` shell around the pure codec
 * (`protocols/tftp-packet.ts`), file-name check (`protocols/file-name.ts`) and
 * transfer state machine (`protocols/tftp-transfer.ts`).
 *
 * - Requests arrive on the listening port; each accepted read gets its own
 *   ephemeral socket, whose port is the server's transfer ID (RFC 1350 §4).
 *   A datagram reaching a transfer socket from any other address/port gets
 *   ERROR 5 and does not disturb the transfer.
 * - File names are checked before `resolve` is called: every traversal
 *   spelling is answered with ERROR 2. WRQ is always refused with ERROR 2.
 * - `resolve` refusals (and anything it throws) become TFTP errors through
 *   `TFTP_ERROR_MAP` only; the text sent is the catalog's fixed one-liner.
 * - Garbage on the listening port is answered with ERROR 4 (one datagram per
 *   datagram, no amplification) and otherwise ignored.
 * - One timer per transfer, armed for the machine's `deadline` (an RTO adapted
 *   to the measured round trip, RFC 6298 style; transfer-timer.ts). A client
 *   that vanishes is resent to for about 40 s, then dropped. A client repeating
 *   its request (same TID) while its transfer awaits ACK 0 gets the OACK again.
 * - DATA goes out with no send callback, addressed without a DNS tick.
 * - Slots are shared fairly (`protocols/tftp-slots.ts`): a per-address cap,
 *   a global cap, and, when the table is full, a new source evicts the oldest
 *   never-started transfer of the busiest source. A transfer whose client has
 *   not acknowledged anything yet lives `firstAckTimeoutMs` (default 8 s), not
 *   the ~40 s of a stalled transfer in progress. Refusals say which limit hit
 *   (`busy`, see `tftpBusyError`).
 */
import dgram from 'node:dgram';
import type { RemoteInfo } from 'node:dgram';
import { HotdeskError, toHotdeskError, type ErrorCode } from '../../core/errors.js';
import { decodeTftpPacket, encodeTftpPacket, TFTP_ERROR_CODE, tftpAckBlock } from '../../protocols/tftp-packet.js';
import { checkFileName, TFTP_FILE_NAME } from '../../protocols/file-name.js';
import { TftpSlotTable } from '../../protocols/tftp-slots.js';
import { abortTransfer, createTransfer, onAck, onRequestRepeated, onTimeout, type TftpStep, type TftpTransferState } from '../../protocols/tftp-transfer.js';
import type { LogFields } from '../logger.js';
import { tftpBusyError, tftpErrorFor, type TftpBusyReason } from './tftp-errors.js';
import {
  DEFAULT_TFTP_MAX_PER_SOURCE,
  DEFAULT_TFTP_MAX_TRANSFERS,
  transferLimitsOf,
  type TftpRemote,
  type TftpServer,
  type TftpServerOptions,
} from './tftp-server-types.js';
import { TransferTimer } from './transfer-timer.js';
import { bindSocket, closeSocket, literalLookup, printable, sendQuiet } from './udp-sockets.js';

export type {
  TftpRemote,
  TftpResolveRequest,
  TftpResolveResult,
  TftpServer,
  TftpServerLimits,
  TftpServerOptions,
  TftpServerStats,
} from './tftp-server-types.js';

interface Live {
  readonly sock: dgram.Socket;
  readonly remote: TftpRemote;
  readonly path: string;
  readonly startedAt: number;
  state: TftpTransferState;
  /** The retransmission timer, armed for `state.deadline`. */
  readonly timer: TransferTimer;
  ended: boolean;
}

/** One slot: a request being resolved (`live` null) or a transfer. */
interface Slot {
  readonly key: string;
  readonly address: string;
  readonly remote: TftpRemote;
  live: Live | null;
  /** Evicted while its request was being resolved: do not start it. */
  cancelled: boolean;
  isStarted(): boolean;
}

/**
 * Starts a read-only TFTP server on `host:port`. Rejects with `port-in-use`
 * when the port is taken or privileged (see docs/tftp.md for port 69).
 */
export async function startTftpServer(opts: TftpServerOptions): Promise<TftpServer> {
  const log = opts.log ?? ((): void => {});
  const clock = opts.clock ?? Date.now;
  const limits = opts.limits ?? {};
  const maxTransfers = limits.maxTransfers ?? DEFAULT_TFTP_MAX_TRANSFERS;
  const maxPerSource = limits.maxPerSource ?? DEFAULT_TFTP_MAX_PER_SOURCE;
  const transferLimits = transferLimitsOf(limits);
  const family = opts.host.includes(':') ? 'udp6' : 'udp4';
  const main = dgram.createSocket({ type: family });
  try {
    await bindSocket(main, opts.port, opts.host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    await closeSocket(main);
    if (code === 'EADDRINUSE')
      throw new HotdeskError(
        'port-in-use',
        `TFTP port ${opts.port} on ${opts.host} is already in use: stop the other TFTP server or choose another port`,
        {},
        { cause: e },
      );
    if (code === 'EACCES')
      throw new HotdeskError(
        'port-in-use',
        `TFTP port ${opts.port} needs privileges: see docs/tftp.md (setcap or a port redirect), or choose another port`,
        {},
        { cause: e },
      );
    throw e;
  }
  const port = main.address().port;

  let closing = false;
  const live = new Map<Live, Slot>();
  /** Requests being resolved or transferred, by client TID `address|port`: a repeated RRQ from the same TID goes to its transfer. */
  const slots = new TftpSlotTable<Slot>({ maxTransfers, maxPerSource });
  const counters = { transfersOk: 0, transfersFailed: 0, refused: 0, refusedBusy: 0, evicted: 0, bytesOk: 0, bytesSent: 0, resent: 0 };
  /** Transfer sockets open (bound and not yet closed). */
  let openSockets = 0;
  const socketCloses = new Set<Promise<void>>();
  const closeTransferSocket = (sock: dgram.Socket): void => {
    // After the sends already queued on it (an ERROR to an evicted client): a send
    // resolves its address on the next tick, a close before that would drop it.
    const p = new Promise<void>((r) => setImmediate(r))
      .then(() => closeSocket(sock))
      .then(() => {
        openSockets--;
        socketCloses.delete(p);
      });
    socketCloses.add(p);
  };

  /** DATA and OACK: see {@link sendQuiet}. */
  const sendData = (sock: dgram.Socket, buf: Buffer, remote: TftpRemote): void => {
    const err = sendQuiet(sock, buf, remote.port, remote.address);
    if (err) log('debug', 'tftp send failed', { remote: `${remote.address}:${remote.port}`, error: err.message });
  };

  const sendTo = (sock: dgram.Socket, buf: Buffer, remote: TftpRemote): void => {
    try {
      sock.send(buf, remote.port, remote.address, (err) => {
        if (err) log('debug', 'tftp send failed', { remote: `${remote.address}:${remote.port}`, error: err.message });
      });
    } catch (err) {
      log('debug', 'tftp send failed', { remote: `${remote.address}:${remote.port}`, error: (err as Error).message });
    }
  };

  const sendError = (sock: dgram.Socket, remote: TftpRemote, code: number, message: string): void => {
    sendTo(sock, encodeTftpPacket({ op: 'error', code, message }), remote);
  };

  const refuse = (remote: TftpRemote, code: ErrorCode, fields: LogFields): void => {
    counters.refused++;
    const e = tftpErrorFor(code);
    log('info', 'tftp request refused', { remote: `${remote.address}:${remote.port}`, code, ...fields });
    if (!closing) sendError(main, remote, e.code, e.message);
  };

  const refuseBusy = (remote: TftpRemote, reason: TftpBusyReason, fields: LogFields): void => {
    counters.refused++;
    counters.refusedBusy++;
    const e = tftpBusyError(reason);
    log('info', 'tftp request refused', { remote: `${remote.address}:${remote.port}`, code: 'busy', limit: reason, ...fields });
    if (!closing) sendError(main, remote, e.code, e.message);
  };

  const release = (slot: Slot): void => {
    slots.release(slot);
  };

  const finish = (t: Live, slot: Slot, step: TftpStep): void => {
    if (t.ended) return;
    t.ended = true;
    t.timer.cancel();
    live.delete(t);
    release(slot);
    counters.bytesSent += step.state.bytesSent;
    counters.resent += step.state.resent;
    const s = step.state;
    const fields = { remote: `${t.remote.address}:${t.remote.port}`, path: t.path, bytes: s.data.length, ms: clock() - t.startedAt, resent: s.resent };
    if (step.done) {
      counters.transfersOk++;
      counters.bytesOk += s.data.length;
      const rtt = s.srttMs === null ? {} : { srttMs: Math.round(s.srttMs * 10) / 10, rtoMs: Math.round(s.rtoMs) };
      log('info', 'tftp transfer done', { ...fields, blksize: s.blksize, windowsize: s.windowsize, ...rtt });
    } else {
      counters.transfersFailed++;
      log('warn', 'tftp transfer failed', { ...fields, reason: step.state.failure ?? 'unknown', acked: step.state.acked });
    }
    closeTransferSocket(t.sock);
  };

  const apply = (t: Live, slot: Slot, step: TftpStep): void => {
    if (t.ended) return;
    t.state = step.state;
    for (const buf of step.send) sendData(t.sock, buf, t.remote);
    if (step.done || step.failed) {
      finish(t, slot, step);
      return;
    }
    t.timer.arm();
  };

  /** Ends an evicted slot: tells its client the server is busy, then drops the request or transfer. */
  const evict = (slot: Slot): void => {
    counters.evicted++;
    slot.cancelled = true;
    const busy = tftpBusyError('server');
    log('info', 'tftp transfer evicted', { remote: `${slot.remote.address}:${slot.remote.port}`, active: slots.size });
    const t = slot.live;
    if (t) {
      sendError(t.sock, t.remote, busy.code, busy.message);
      apply(t, slot, abortTransfer(t.state, 'evicted'));
    } else if (!closing) {
      sendError(main, slot.remote, busy.code, busy.message);
    }
  };

  const onTransferMessage = (t: Live, slot: Slot, msg: Buffer, rinfo: RemoteInfo): void => {
    if (t.ended) return;
    if (rinfo.address !== t.remote.address || rinfo.port !== t.remote.port) {
      // RFC 1350 §4: wrong TID, answer ERROR 5 to the sender, keep the transfer going.
      sendError(t.sock, { address: rinfo.address, port: rinfo.port }, TFTP_ERROR_CODE.unknownTransferId, 'Unknown transfer ID');
      return;
    }
    const ack = tftpAckBlock(msg);
    if (ack >= 0) {
      apply(t, slot, onAck(t.state, ack, clock()));
      return;
    }
    const decoded = decodeTftpPacket(msg);
    if (decoded.ok && decoded.packet.op === 'error') {
      const { code, message } = decoded.packet;
      log('debug', 'tftp client sent error', { remote: `${rinfo.address}:${rinfo.port}`, code, message: printable(message) });
      apply(t, slot, abortTransfer(t.state, `client error ${decoded.packet.code}`));
      return;
    }
    sendError(t.sock, t.remote, TFTP_ERROR_CODE.illegalOperation, 'Illegal TFTP operation');
    apply(t, slot, abortTransfer(t.state, decoded.ok ? `unexpected ${decoded.packet.op}` : 'malformed packet'));
  };

  const startTransfer = async (slot: Slot, path: string, options: Readonly<Record<string, string>>, data: Buffer): Promise<void> => {
    const remote = slot.remote;
    const sock = dgram.createSocket({ type: family, lookup: literalLookup });
    sock.on('error', (err) => log('debug', 'tftp transfer socket error', { remote: `${remote.address}:${remote.port}`, error: err.message }));
    openSockets++;
    try {
      await bindSocket(sock, 0, opts.host);
    } catch (err) {
      release(slot);
      closeTransferSocket(sock);
      if (!slot.cancelled) refuse(remote, 'internal', { path, error: (err as Error).message });
      return;
    }
    if (closing || slot.cancelled) {
      release(slot);
      closeTransferSocket(sock);
      return;
    }
    const now = clock();
    const first = createTransfer({ data, options, now, limits: transferLimits });
    const t: Live = {
      sock,
      remote,
      path,
      startedAt: now,
      state: first.state,
      timer: new TransferTimer(
        () => (t.ended ? null : t.state.deadline),
        clock,
        () => apply(t, slot, onTimeout(t.state, Math.max(clock(), t.state.deadline))),
      ),
      ended: false,
    };
    slot.live = t;
    live.set(t, slot);
    sock.on('message', (msg, rinfo) => {
      try {
        onTransferMessage(t, slot, msg, rinfo);
      } catch (err) {
        log('error', 'tftp transfer handler failed', { error: (err as Error).message });
        apply(t, slot, abortTransfer(t.state, 'internal'));
      }
    });
    log('debug', 'tftp transfer start', {
      remote: `${remote.address}:${remote.port}`,
      path,
      bytes: data.length,
      blksize: first.state.blksize,
      windowsize: first.state.windowsize,
    });
    apply(t, slot, first);
  };

  const onRequest = (msg: Buffer, rinfo: RemoteInfo): void => {
    const remote: TftpRemote = { address: rinfo.address, port: rinfo.port };
    if (msg.length < 2 || rinfo.port === 0) return;
    const decoded = decodeTftpPacket(msg);
    if (!decoded.ok) {
      log('debug', 'tftp garbage datagram', { remote: `${remote.address}:${remote.port}`, reason: decoded.reason });
      counters.refused++;
      sendError(main, remote, TFTP_ERROR_CODE.illegalOperation, 'Illegal TFTP operation');
      return;
    }
    const p = decoded.packet;
    if (p.op === 'wrq') {
      refuse(remote, 'write-refused', { path: printable(p.filename) });
      return;
    }
    if (p.op !== 'rrq') {
      // DATA/ACK/ERROR/OACK on the listening port belong to no transfer (RFC 1350 §4).
      counters.refused++;
      if (p.op !== 'error') sendError(main, remote, TFTP_ERROR_CODE.unknownTransferId, 'Unknown transfer ID');
      return;
    }
    if (p.mode !== 'octet' && p.mode !== 'netascii') {
      refuse(remote, 'bad-request', { mode: printable(p.mode) });
      return;
    }
    const checked = checkFileName(p.filename, TFTP_FILE_NAME);
    if (!checked.ok) {
      refuse(remote, checked.code, { path: printable(p.filename), reason: checked.reason });
      return;
    }
    const slot: Slot = {
      key: `${remote.address}|${remote.port}`,
      address: remote.address,
      remote,
      live: null,
      cancelled: false,
      isStarted() {
        return this.live?.state.started ?? false;
      },
    };
    const admission = slots.admit(slot);
    if (!admission.ok) {
      if (admission.reason === 'duplicate') {
        // The same client TID repeating its request: it has not seen the OACK (see onRequestRepeated).
        const held = slots.get(slot.key);
        if (held?.live && !held.live.ended) apply(held.live, held, onRequestRepeated(held.live.state, clock()));
        return;
      }
      refuseBusy(remote, admission.reason, { path: checked.name, active: slots.size });
      return;
    }
    if (admission.evicted) evict(admission.evicted);
    const path = checked.name;
    Promise.resolve()
      .then(() => opts.resolve({ path, remote, options: p.options }))
      .then(
        (result) => {
          if (closing || slot.cancelled) return release(slot);
          if ('error' in result) {
            release(slot);
            refuse(remote, result.error.code, { path });
            return;
          }
          return startTransfer(slot, path, p.options, result.data);
        },
        (err: unknown) => {
          release(slot);
          const he = toHotdeskError(err);
          if (he.code === 'internal') log('error', 'tftp resolve threw', { path, error: err instanceof Error ? err.message : String(err) });
          if (!closing && !slot.cancelled) refuse(remote, he.code, { path });
        },
      )
      .catch((err: unknown) => {
        log('error', 'tftp request handling failed', { path, error: err instanceof Error ? err.message : String(err) });
      });
  };

  main.on('message', (msg, rinfo) => {
    try {
      onRequest(msg, rinfo);
    } catch (err) {
      log('error', 'tftp request handler failed', { error: (err as Error).message });
    }
  });
  main.on('error', (err) => log('error', 'tftp socket error', { error: err.message }));
  log('info', 'tftp listening', { host: opts.host, port });

  return {
    port,
    stats: () => ({ active: slots.size, sockets: openSockets, sources: slots.sources, ...counters }),
    close: async () => {
      if (closing) return;
      closing = true;
      const pending: Promise<void>[] = [closeSocket(main)];
      for (const [t, slot] of [...live]) apply(t, slot, abortTransfer(t.state, 'server closing'));
      await Promise.all([...pending, ...socketCloses]);
    },
  };
}
