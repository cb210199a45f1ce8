/** The render-ahead queue: start-up's pass, phones whose revision changed first, each once, only on idle workers. */
import { describe, expect, it } from 'vitest';
import { RenderAhead, type RenderAheadStats } from '../../../agent/shell/provisioning/render-ahead.js';
import { createLogger } from '../../../agent/shell/logger.js';

const log = createLogger({ level: 'error', write: () => {} });

/** A render that takes a few milliseconds and records order and overlap. */
function harness(o: { busy?: () => boolean; fail?: string } = {}) {
  const order: string[] = [];
  let running = 0;
  let most = 0;
  let idle: (s: RenderAheadStats) => void = () => {};
  const finished = new Promise<RenderAheadStats>((r) => (idle = r));
  const ahead = new RenderAhead({
    log,
    busy: o.busy ?? (() => false),
    retryMs: 2,
    onIdle: (s) => idle(s),
    render: async (mac) => {
      order.push(mac);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      if (mac === o.fail) throw new Error('boom');
      return 2;
    },
  });
  return { ahead, order, finished, most: () => most };
}

describe('RenderAhead', () => {
  it('renders nothing before start, then what commits named first, then every phone, each once, two at a time', async () => {
    const h = harness();
    h.ahead.push(['c', 'a']);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.order).toEqual([]);
    h.ahead.start(['a', 'b', 'c', 'd']);
    const stats = await h.finished;
    expect(h.order).toEqual(['c', 'a', 'b', 'd']);
    expect(stats).toEqual({ files: 8, failed: 0 });
    expect(h.most()).toBe(2);
  });

  it('a phone pushed while the start-up pass runs jumps the queue', async () => {
    const h = harness();
    h.ahead.start(['a', 'b', 'c', 'd', 'e']);
    h.ahead.push(['e']);
    await h.finished;
    expect(h.order.indexOf('e')).toBeLessThan(h.order.indexOf('d'));
    expect(h.order).toHaveLength(5);
  });

  it('waits while fetches wait for a worker, and resumes when they are served', async () => {
    let busy = true;
    const h = harness({ busy: () => busy });
    h.ahead.start(['a', 'b']);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.order).toEqual([]);
    expect(h.ahead.pending).toBe(2);
    busy = false;
    await h.finished;
    expect(h.order).toEqual(['a', 'b']);
  });

  it('counts a failed phone and goes on; stop() drops what waits', async () => {
    const h = harness({ fail: 'b' });
    h.ahead.start(['a', 'b', 'c']);
    expect(await h.finished).toEqual({ files: 4, failed: 1 });
    const s = harness();
    s.ahead.start(['a', 'b', 'c', 'd']);
    s.ahead.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.order).toEqual(['a', 'b']);
    expect(s.ahead.pending).toBe(0);
  });
});
