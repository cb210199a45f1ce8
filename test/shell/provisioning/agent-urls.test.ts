/**
 * shell/provisioning/agent-urls.ts: the URLs phone files point back to (shared by the HTTP
 * server and `hotdesk render`).
 */
import { describe, expect, it } from 'vitest';
import type { Phone } from '../../../agent/core/model.js';
import { agentUrls, trimBase } from '../../../agent/shell/provisioning/agent-urls.js';

const phone: Phone = { mac: '001565aabb01', vendor: 'yealink', model: 'T46U', label: 'Desk 1', hotdesk: true, identities: [], keys: [] };

describe('agentUrls', () => {
  it('builds the screen, action and Poly notification URLs under the base, token as a path segment', () => {
    expect(agentUrls('http://10.0.0.5:8080', phone, 'tok-EN_1')).toEqual({
      provisioning: 'http://10.0.0.5:8080',
      screens: 'http://10.0.0.5:8080/xml/001565aabb01/tok-EN_1/menu',
      actionUrl: 'http://10.0.0.5:8080/action/001565aabb01/tok-EN_1/outgoing',
      telNotification: 'http://10.0.0.5:8080/action/001565aabb01/tok-EN_1/poly',
    });
  });

  it('ignores trailing slashes and adds the firmware URL only when a file is named', () => {
    const u = agentUrls('https://agent.example:8443///', phone, 't', 'T46U-108.86.0.45.rom');
    expect(u.provisioning).toBe('https://agent.example:8443');
    expect(u.firmware).toBe('https://agent.example:8443/firmware/T46U-108.86.0.45.rom');
    expect('firmware' in agentUrls('http://a', phone, 't', '')).toBe(false);
    expect('firmware' in agentUrls('http://a', phone, 't')).toBe(false);
  });

  it('percent-encodes a token that is not URL-safe', () => {
    expect(agentUrls('http://a', phone, 'a/b?c').screens).toBe('http://a/xml/001565aabb01/a%2Fb%3Fc/menu');
  });

  it('trimBase removes only trailing slashes', () => {
    expect(trimBase('http://a/b//')).toBe('http://a/b');
    expect(trimBase('http://a')).toBe('http://a');
  });
});
