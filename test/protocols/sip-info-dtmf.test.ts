import { describe, expect, it } from 'vitest';
import { dtmfDigit, parseInfoDtmf } from '../../agent/protocols/sip-info-dtmf.js';

describe('INFO DTMF bodies', () => {
  it('reads application/dtmf-relay Signal and Duration lines, in any case and spacing', () => {
    expect(parseInfoDtmf('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({ kind: 'dtmf', digit: '5', durationMs: 160 });
    expect(parseInfoDtmf('application/dtmf-relay', 'signal = #\nduration= 250')).toEqual({ kind: 'dtmf', digit: '#', durationMs: 250 });
    expect(parseInfoDtmf('application/dtmf-relay', 'Signal=d\r\n')).toEqual({ kind: 'dtmf', digit: 'D' });
    expect(parseInfoDtmf('application/dtmf-relay', 'Duration=160\r\n')).toEqual({ kind: 'none' });
    expect(parseInfoDtmf('application/dtmf-relay', 'Signal=E\r\n')).toEqual({ kind: 'none' });
  });

  it('reads application/dtmf as the digit alone', () => {
    expect(parseInfoDtmf('application/dtmf', '7')).toEqual({ kind: 'dtmf', digit: '7' });
    expect(parseInfoDtmf('application/dtmf', '11\r\n')).toEqual({ kind: 'dtmf', digit: '#' });
    expect(parseInfoDtmf('application/dtmf', '77')).toEqual({ kind: 'none' });
  });

  it('maps RFC 4733 event numbers 10-15 to * # A-D', () => {
    expect(['10', '11', '12', '13', '14', '15', '16', '0', ' 9 ', 'x'].map(dtmfDigit)).toEqual(['*', '#', 'A', 'B', 'C', 'D', null, '0', '9', null]);
  });

  it('an empty INFO is a keep-alive; other types are unsupported', () => {
    expect(parseInfoDtmf('', '')).toEqual({ kind: 'none' });
    expect(parseInfoDtmf('application/media_control+xml', '<x/>')).toEqual({ kind: 'unsupported' });
  });
});
