import { describe, expect, it } from 'vitest';
import { AllowList, parseCidr } from '../../agent/protocols/cidr.js';
import { HotdeskError } from '../../agent/core/errors.js';

describe('AllowList', () => {
  it('allows everyone when empty', () => {
    expect(new AllowList([]).allows('203.0.113.9')).toBe(true);
  });
  it('matches IPv4 ranges, including IPv4-mapped IPv6', () => {
    const l = new AllowList(['10.1.0.0/16', '192.168.7.7']);
    expect(l.allows('10.1.200.3')).toBe(true);
    expect(l.allows('::ffff:10.1.0.1')).toBe(true);
    expect(l.allows('10.2.0.1')).toBe(false);
    expect(l.allows('192.168.7.7')).toBe(true);
    expect(l.allows('192.168.7.8')).toBe(false);
    expect(l.allows('not-an-ip')).toBe(false);
  });
  it('matches IPv6 ranges with odd prefix lengths', () => {
    const l = new AllowList(['fd00:ab::/33', '::1']);
    expect(l.allows('fd00:ab:7fff::1')).toBe(true);
    expect(l.allows('fd00:ab:8000::1')).toBe(false);
    expect(l.allows('::1')).toBe(true);
    expect(l.allows('127.0.0.1')).toBe(false);
  });
  it('rejects nonsense with a coded error', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow(HotdeskError);
    expect(() => parseCidr('bogus/8')).toThrow(/not a network/);
  });
});
