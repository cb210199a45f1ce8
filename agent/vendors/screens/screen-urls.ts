/**
 * The URL scheme of the hot-desk XML-browser screens, shared by the three
 * vendors' renderers and by the shell that routes them. Fixed parts
 * are path segments so a phone appending `?param=value` on submit always
 * produces a well-formed URL (docs/vendors.md "XML browser dialects", Yealink: the
 * behaviour with an existing `?` is unverified).
 *
 * | route                      | what the shell answers                                   |
 * |----------------------------|----------------------------------------------------------|
 * | `<base>`                   | renderMenu                                               |
 * | `<base>/login`             | renderLoginForm; with `?ext=` (Snom step 1): renderPinForm(ext) |
 * | `<base>/login/<ext>`       | renderPinForm(ext) (menu identity entries)               |
 * | `<base>/submit?ext=&pin=`  | log in (Yealink, Poly: both fields on one screen)        |
 * | `<base>/submit/<ext>?pin=` | log in as `<ext>` (PIN form)                             |
 * | `<base>/logout`            | log out                                                  |
 *
 * Pure module.
 */

/** Absolute screen URLs under one phone's screen base URL. */
export interface ScreenUrls {
  readonly menu: string;
  readonly login: string;
  readonly logout: string;
  readonly submit: string;
  /** PIN form of a short number. */
  pinForm(ext: string): string;
  /** Submit target of the PIN form of a short number. */
  submitFor(ext: string): string;
}

/** Builds the screen URLs under `baseUrl` (a trailing `/` is ignored). */
export function screenUrls(baseUrl: string): ScreenUrls {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    menu: base,
    login: `${base}/login`,
    logout: `${base}/logout`,
    submit: `${base}/submit`,
    pinForm: (ext) => `${base}/login/${encodeURIComponent(ext)}`,
    submitFor: (ext) => `${base}/submit/${encodeURIComponent(ext)}`,
  };
}
