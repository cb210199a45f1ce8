/**
 * The URLs a phone's files point back to (XML-browser menu, outgoing-call
 * action URL, Poly telephony notification, firmware). One function, used by
 * the HTTP server when it renders files for phones and by `hotdesk render`,
 * so what the CLI shows is what a phone receives.
 *
 * Layout (fixed path segments rather than query parameters, because Yealink
 * appends `?param=value` to screen URLs on submit; see docs/vendors.md
 * "XML browser dialects"):
 *
 * | URL | path |
 * |---|---|
 * | screens | `<base>/xml/<mac>/<screenToken>/menu` |
 * | actionUrl | `<base>/action/<mac>/<screenToken>/outgoing` (Yealink/Snom driver appends `?mac=$mac&remote=$remote`) |
 * | telNotification | `<base>/action/<mac>/<screenToken>/poly` (Poly `apps.telNotification.URL`) |
 * | firmware | `<base>/firmware/<file>` (only when the profile names a file) |
 */
import type { Phone } from '../../core/model.js';
import type { AgentUrls } from '../../vendors/driver.js';

/** The default base when the site sets no `provisioning.baseUrl` and nothing is listening yet. */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

/** `base` without trailing slashes. */
export function trimBase(base: string): string {
  return base.replace(/\/+$/, '');
}

/**
 * Builds the absolute URLs for `phone`. `base` is the provisioning base URL
 * (`http://10.0.0.5:8080`, trailing slashes ignored); `screenToken` is the
 * phone's secret-free per-phone token that screen and action requests must
 * carry; `firmwareFile` is the firmware file name from the phone's profile.
 */
export function agentUrls(base: string, phone: Phone, screenToken: string, firmwareFile?: string): AgentUrls {
  const b = trimBase(base);
  const mac = encodeURIComponent(phone.mac);
  const token = encodeURIComponent(screenToken);
  const urls: AgentUrls = {
    provisioning: b,
    screens: `${b}/xml/${mac}/${token}/menu`,
    actionUrl: `${b}/action/${mac}/${token}/outgoing`,
    telNotification: `${b}/action/${mac}/${token}/poly`,
  };
  return firmwareFile !== undefined && firmwareFile !== '' ? { ...urls, firmware: `${b}/firmware/${encodeURIComponent(firmwareFile)}` } : urls;
}
