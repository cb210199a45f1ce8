/**
 * The hot-desk line of a phone as its files need it (RenderInput.hotdeskLine):
 * the line's credentials from the store and the agent's SIP address. One
 * function, used by the provisioning pipeline, `hotdesk render`, `hotdesk
 * doctor` and the console, so what they show is what a phone receives.
 *
 * The host is the host of the provisioning base URL the phone is given (the
 * phone already reaches the agent there); the port is the agent's SIP UDP
 * port (`--sip-port`, `network.sipPort`).
 */
import type { Phone } from '../../core/model.js';
import type { HotdeskLineInput } from '../../vendors/driver.js';

/** The agent's SIP UDP port when neither `--sip-port` nor `network.sipPort` says otherwise. */
export const DEFAULT_AGENT_SIP_PORT = 5070;

/** Where phones reach the agent's SIP side. */
export interface SipAdvertised {
  readonly host: string;
  readonly port: number;
}

/** The host of a provisioning base URL (`http://10.0.0.5:8080` gives `10.0.0.5`; IPv6 keeps its brackets). */
export function sipHostOf(baseUrl: string): string {
  return new URL(baseUrl).hostname;
}

/**
 * The render input's hot-desk line: null when the phone is not hot-desk, has
 * no line, or there is no SIP address to give.
 */
export function hotdeskLineInput(
  line: { readonly username: string; readonly password: string } | undefined,
  phone: Pick<Phone, 'hotdesk'>,
  sip: SipAdvertised | null,
): HotdeskLineInput | null {
  if (!phone.hotdesk || line === undefined || sip === null) return null;
  return { username: line.username, password: line.password, host: sip.host, port: sip.port, transport: 'udp' };
}

/** The SIP address for the hot-desk line: the host of `baseUrl` and `port`; null before both are known (empty base, port 0). */
export function advertisedSip(baseUrl: string, port: number): SipAdvertised | null {
  return baseUrl !== '' && port > 0 ? { host: sipHostOf(baseUrl), port } : null;
}
