/**
 * The one retransmission timer of a TFTP transfer (tftp-server.ts), armed
 * for the state machine's `deadline` (protocols/tftp-transfer.ts).
 *
 * - Progress moves the deadline later on every ACK; the armed timer is then
 *   left alone and, when it fires before the deadline, re-arms for the rest:
 *   about one timer operation per RTO instead of two per ACK. Only an
 *   earlier deadline re-arms at once.
 * - Node runs due timers before it reads its sockets. After a busy spell of
 *   this process the ACKs that arrived meanwhile would still be unread when
 *   the timer fires, and a transfer would resend what its client already
 *   has. So a due timer looks again from `setImmediate`, which runs after
 *   the sockets are read.
 */

/** A transfer's timer handle: arm it after every step, cancel it when the transfer ends. */
export class TransferTimer {
  private timer: NodeJS.Timeout | null = null;
  /** When `timer` fires (clock ms). */
  private firesAt = 0;

  /**
   * @param deadline - the transfer's current deadline (clock ms), or null once it is over; read on every check
   * @param clock - millisecond clock, the one the machine gets
   * @param due - called once the deadline has passed (feed `onTimeout`, then {@link arm} again)
   */
  constructor(
    private readonly deadline: () => number | null,
    private readonly clock: () => number,
    private readonly due: () => void,
  ) {}

  /** Makes sure the timer fires no later than the transfer's deadline. */
  arm(): void {
    const deadline = this.deadline();
    if (deadline === null) return;
    if (this.timer && this.firesAt <= deadline) return;
    if (this.timer) clearTimeout(this.timer);
    const now = this.clock();
    this.firesAt = Math.max(now, deadline);
    this.timer = setTimeout(() => {
      if (this.deadline() === null) return;
      // `timer` stays set until the check below: arm() meanwhile adds no second timer.
      setImmediate(() => {
        this.timer = null;
        const at = this.deadline();
        if (at === null) return;
        // Early (the deadline moved on), or Node's timer fired up to 1 ms early: wait for the rest.
        if (at - this.clock() > 1) this.arm();
        else this.due();
      });
    }, this.firesAt - now);
  }

  /** Stops the timer for good. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
