import { describe, expect, it } from 'vitest';
import { formatFeatureCode, parseFeatureCode } from '../../agent/core/feature-code.js';
import { HotdeskError } from '../../agent/core/errors.js';

describe('parseFeatureCode: the three forms (docs/behaviour.md §2)', () => {
  it.each([
    ['*35', { kind: 'toggle' }],
    ['*35*101', { kind: 'ext', ext: '101' }],
    ['*35*101*1234', { kind: 'ext-pin', ext: '101', pin: '1234' }],
  ])('%s', (input, expected) => {
    expect(parseFeatureCode(input)).toEqual(expected);
  });

  it('ignores one trailing #', () => {
    expect(parseFeatureCode('*35#')).toEqual({ kind: 'toggle' });
    expect(parseFeatureCode('*35*101#')).toEqual({ kind: 'ext', ext: '101' });
    expect(parseFeatureCode('*35*101*1234#')).toEqual({ kind: 'ext-pin', ext: '101', pin: '1234' });
    expect(parseFeatureCode('*35*101##').kind).toBe('not-hotdesk');
  });

  it('keeps leading zeros in short number and PIN', () => {
    expect(parseFeatureCode('*35*001*0007')).toEqual({ kind: 'ext-pin', ext: '001', pin: '0007' });
    expect(parseFeatureCode('*35*0')).toEqual({ kind: 'ext', ext: '0' });
  });

  it('bounds lengths: ext 1..15 digits, PIN 1..12 digits', () => {
    expect(parseFeatureCode(`*35*${'1'.repeat(15)}`).kind).toBe('ext');
    expect(parseFeatureCode(`*35*${'1'.repeat(16)}`).kind).toBe('not-hotdesk');
    expect(parseFeatureCode(`*35*1*${'9'.repeat(12)}`).kind).toBe('ext-pin');
    expect(parseFeatureCode(`*35*1*${'9'.repeat(13)}`).kind).toBe('not-hotdesk');
  });

  it('trims surrounding whitespace', () => {
    expect(parseFeatureCode('  *35*101 \n')).toEqual({ kind: 'ext', ext: '101' });
  });
});

describe('parseFeatureCode: SIP URIs from action URLs (docs/vendors.md)', () => {
  it.each([
    ['sip:*35*101*1234@10.0.0.1', { kind: 'ext-pin', ext: '101', pin: '1234' }],
    ['sips:*35*101@pbx.example:5061;transport=tls', { kind: 'ext', ext: '101' }],
    ['SIP:*35@pbx', { kind: 'toggle' }],
    ['tel:*35*007;phone-context=example.com', { kind: 'ext', ext: '007' }],
    ['<sip:*35*101@pbx>', { kind: 'ext', ext: '101' }],
    ['sip:%2A35%2A101%2A1234%40pbx.local', { kind: 'ext-pin', ext: '101', pin: '1234' }],
    ['sip%3A%2a35%2a101%23%40pbx.local', { kind: 'ext', ext: '101' }],
    ['%2A35%2A101%23', { kind: 'ext', ext: '101' }],
    ['sip:*35*101#@10.0.0.1', { kind: 'ext', ext: '101' }],
  ])('%s', (input, expected) => {
    expect(parseFeatureCode(input)).toEqual(expected);
  });

  it('refuses broken percent-encoding without throwing', () => {
    expect(parseFeatureCode('sip:%E0%A4%A@pbx')).toEqual({ kind: 'not-hotdesk', reason: 'bad URL encoding' });
  });

  it('a normal number as SIP URI is not a hot-desk code', () => {
    expect(parseFeatureCode('sip:0301234@10.0.0.1').kind).toBe('not-hotdesk');
  });
});

describe('parseFeatureCode: configurable prefix', () => {
  it('accepts *88 and #35', () => {
    expect(parseFeatureCode('*88*42*9', '*88')).toEqual({ kind: 'ext-pin', ext: '42', pin: '9' });
    expect(parseFeatureCode('*35*42', '*88').kind).toBe('not-hotdesk');
    expect(parseFeatureCode('#35', '#35')).toEqual({ kind: 'toggle' });
    expect(parseFeatureCode('#35#', '#35')).toEqual({ kind: 'toggle' });
    expect(parseFeatureCode('#35*12#', '#35')).toEqual({ kind: 'ext', ext: '12' });
  });

  it('refuses an invalid prefix', () => {
    expect(parseFeatureCode('*35', '')).toEqual({ kind: 'not-hotdesk', reason: 'invalid feature prefix' });
    expect(parseFeatureCode('ab', 'ab').kind).toBe('not-hotdesk');
  });
});

describe('parseFeatureCode: not a hot-desk code', () => {
  it.each([
    ['0301234', 'no feature prefix'],
    ['*351', 'prefix not followed by * or end'],
    ['*3', 'no feature prefix'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['#', 'empty'],
    ['*35*abc', 'not keypad digits'],
    ['hello', 'not keypad digits'],
    ['*35*1*2*3', 'too many segments'],
    ['*35*', 'empty short number'],
    ['*35**1234', 'empty short number'],
    ['*35*101*', 'empty PIN'],
    ['*35*1#1', 'invalid short number'],
    ['*35*1*1#2', 'invalid PIN'],
  ])('%j -> %s', (input, reason) => {
    expect(parseFeatureCode(input)).toEqual({ kind: 'not-hotdesk', reason });
  });

  it('never echoes the input (a PIN) in the reason, and bounds input size', () => {
    const r = parseFeatureCode('*35*101*987654*1');
    expect(r.kind).toBe('not-hotdesk');
    expect(JSON.stringify(r)).not.toContain('987654');
    expect(parseFeatureCode(`*35*${'1'.repeat(10_000)}`)).toEqual({ kind: 'not-hotdesk', reason: 'too long' });
  });
});

describe('formatFeatureCode', () => {
  it('builds one-touch dial strings that parse back', () => {
    expect(formatFeatureCode('*35', '001', '0042')).toBe('*35*001*0042');
    expect(formatFeatureCode('*88', '7')).toBe('*88*7');
    expect(parseFeatureCode(formatFeatureCode('#35', '101', '1234'), '#35')).toEqual({ kind: 'ext-pin', ext: '101', pin: '1234' });
  });

  it('refuses invalid parts with bad-request, without echoing the PIN', () => {
    expect(() => formatFeatureCode('*35', '10a')).toThrow(HotdeskError);
    expect(() => formatFeatureCode('x', '101')).toThrow(HotdeskError);
    try {
      formatFeatureCode('*35', '101', '12ab99');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HotdeskError);
      expect((e as HotdeskError).code).toBe('bad-request');
      expect(JSON.stringify((e as HotdeskError).toJSON())).not.toContain('12ab99');
    }
  });
});
