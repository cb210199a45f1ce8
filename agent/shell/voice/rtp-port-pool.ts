/**
 * UDP ports for the voice service's RTP, one per call, from a configured
 * range `[min, max]`.
 *
 * RTP goes on even ports (RFC 3550 §11: RTP on an even port, its RTCP on the
 * next odd one). This agent sends no RTCP and binds no RTCP port: the prompts
 * it plays last seconds, RTCP reports are optional to the media path, and a
 * phone's reports to the odd port are simply dropped by the host. So only the
 * even ports of the range are handed out, one UDP socket each.
 *
 * Allocation walks the even ports from just after the last one handed out
 * (a port freed by an ended call is the last to be reused, so late packets of
 * that call do not reach the next one), binds the first one the operating
 * system accepts (a port taken by another process, or refused, is skipped)
 * and throws `HotdeskError('busy')` when none is left.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { HotdeskError } from '../../core/errors.js';

/** Where RTP sockets are bound. */
export interface RtpPortPoolOptions {
  /** Local address to bind (default `0.0.0.0`; an IPv6 address gives udp6 sockets). */
  readonly address?: string;
  /** Lowest port (rounded up to even). */
  readonly min: number;
  /** Highest port. */
  readonly max: number;
}

/** One bound RTP socket, held until {@link RtpPortLease.release}. */
export interface RtpPortLease {
  readonly port: number;
  readonly socket: dgram.Socket;
  /** Closes the socket and returns the port to the pool (idempotent). */
  release(): void;
}

/** Errors that mean "this port, not this pool": try the next one. */
const SKIP_CODES: ReadonlySet<string> = new Set(['EADDRINUSE', 'EACCES']);

/** Even-port allocator for RTP sockets. */
export class RtpPortPool {
  readonly address: string;
  readonly min: number;
  readonly max: number;
  readonly #held = new Set<number>();
  /** Number of even ports in the range. */
  readonly #size: number;
  /** Index (0-based, in even ports) where the next search starts. */
  #cursor = 0;

  constructor(o: RtpPortPoolOptions) {
    const min = o.min + (o.min % 2);
    if (!Number.isInteger(o.min) || !Number.isInteger(o.max) || o.min < 1 || o.max > 65535 || min > o.max) {
      throw new HotdeskError('bad-request', `RTP port range ${o.min}-${o.max} holds no even port in 2-65534`, { min: o.min, max: o.max });
    }
    this.address = o.address ?? '0.0.0.0';
    this.min = min;
    this.max = o.max;
    this.#size = Math.floor((o.max - min) / 2) + 1;
  }

  /** Ports currently handed out. */
  get inUse(): number {
    return this.#held.size;
  }

  /** Binds a UDP socket on the next free even port; `busy` when the range is exhausted. */
  async allocate(): Promise<RtpPortLease> {
    for (let tried = 0; tried < this.#size; tried++) {
      const index = (this.#cursor + tried) % this.#size;
      const port = this.min + 2 * index;
      if (this.#held.has(port)) continue;
      this.#held.add(port); // reserved while binding, so concurrent calls never race for it
      const socket = await this.#bind(port).catch((e: unknown) => {
        this.#held.delete(port);
        if (SKIP_CODES.has((e as NodeJS.ErrnoException).code ?? '')) return null;
        throw e;
      });
      if (!socket) continue;
      this.#cursor = (index + 1) % this.#size;
      return this.#lease(port, socket);
    }
    throw new HotdeskError('busy', `no free RTP port in ${this.min}-${this.max} (${this.#held.size} calls hold one)`, { min: this.min, max: this.max });
  }

  #lease(port: number, socket: dgram.Socket): RtpPortLease {
    let released = false;
    return {
      port,
      socket,
      release: () => {
        if (released) return;
        released = true;
        this.#held.delete(port);
        try {
          socket.close();
        } catch {
          // already closed by its user
        }
      },
    };
  }

  #bind(port: number): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: isIPv6(this.address) ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(e);
      };
      socket.once('error', onError);
      socket.bind({ port, address: this.address, exclusive: true }, () => {
        socket.off('error', onError);
        resolve(socket);
      });
    });
  }
}
