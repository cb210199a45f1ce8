/**
 * Yealink driver (T3xG, T4xU, T5xW).
 *
 * Files (docs/vendors.md "Files each phone fetches"): `<mac>.boot` (else
 * `y000000000000.boot`) includes the per-family common file
 * `y0000000000NN.cfg` and `<mac>.cfg`; only `<mac>.cfg` holds secrets and the
 * config revision. Syntax `#!version:1.0.0.1` then `key = value`; `%NULL%`
 * clears a value. Re-sync without reboot needs `sip.notify_reboot_enable = 0`
 * and a NOTIFY `Event: check-sync`.
 *
 * User-Agent forms: `Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:cc`,
 * `Yealink SIP-T56A  58.80.0.25 001565f429a4` (double space, no colons),
 * `yealink SIP-T28P 2.70.0.140 00:15:65:13:ae:0b`, `Yealink W60B 77.81.0.35 80:5e:c0:09:ab:dc`,
 * `Yealink SIP VP-T49G 51.80.0.10 ...`, `Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0` (no MAC); the corpus
 * with citations is test/vendors/fixtures/user-agents.json.
 *
 * Pure module.
 */
import type { CommonInput, Identification, PhoneFile, RenderInput, VendorDriver } from './driver.js';
import { findSpec, identification, macIn, prepare, renderCommonSpec, renderSpec, userAgentVendor, type DriverDeps, type FileSpec } from './driver-kit.js';
import { yealinkScreens } from './screens/yealink-screens.js';

const KV = 'text/plain; charset=utf-8';
/** Yealink `account.N.sip_server.1.transport_type` codes. */
const TRANSPORT = { udp: 0, tcp: 1, tls: 2 } as const;
const GENERIC_BOOT = 'y000000000000.boot';
/** The model-independent common file the MAC-less boot file includes. */
const GENERIC_CFG = 'y000000000000.cfg';
/** `Yealink SIP-T46U 108...`, `Yealink W60B 77...`, `Yealink SIP VP-T49G 51...`, `Yealink-T46G 28.71...` (old firmware). */
const UA_RE = /\byealink(?:\s+|-)((?:SIP(?:\s+VP)?-)?[A-Za-z0-9_]+)\s+([0-9][0-9A-Za-z.]*)(?:\s+(\S+))?/i;

function specs(mac: string, commonFile: string): FileSpec[] {
  const boot = (name: string): FileSpec => ({ name, template: 'boot', format: 'kv', contentType: KV, secret: false, carriesRevision: false });
  return [
    boot(`${mac}.boot`),
    boot(GENERIC_BOOT),
    { name: commonFile, template: 'common.cfg', format: 'kv', contentType: KV, secret: false, carriesRevision: false },
    { name: `${mac}.cfg`, template: 'mac.cfg', format: 'kv', contentType: KV, secret: true, carriesRevision: true },
  ];
}

/** Creates the Yealink driver over loaded templates and profiles. */
export function createYealinkDriver(deps: DriverDeps): VendorDriver {
  return Object.freeze({
    vendor: 'yealink' as const,
    checkSyncEvent: 'check-sync',
    screens: yealinkScreens,
    isSecretFile: (name: string): boolean => /^[0-9a-f]{12}\.cfg$/i.test(name) && !/^y0{11}/i.test(name),
    identify(path: string, userAgent: string | undefined): Identification | null {
      const uaVendor = userAgentVendor(userAgent);
      if (uaVendor !== undefined && uaVendor !== 'yealink') return null;
      const name = path.toLowerCase();
      let macFromPath: string | undefined;
      if (name === GENERIC_BOOT || /^y[0-9]{12}\.cfg$/.test(name)) {
        macFromPath = undefined;
      } else {
        const m = /^([0-9a-f]{12})\.(boot|cfg)$/.exec(name);
        if (!m?.[1] || m[1] === '000000000000') return null;
        macFromPath = m[1];
      }
      let model: string | undefined;
      let firmware: string | undefined;
      let macFromUserAgent: string | undefined;
      const ua = userAgent !== undefined ? UA_RE.exec(userAgent) : null;
      if (ua?.[1]) {
        const token = ua[1];
        model = deps.profiles.findByUserAgentName('yealink', token)?.model ?? token.replace(/^SIP(?:\s+VP)?-/i, '').toUpperCase();
        firmware = ua[2];
        macFromUserAgent = ua[3] !== undefined ? macIn(ua[3]) : undefined;
      }
      return identification('yealink', name, { macFromPath, macFromUserAgent, model, firmware });
    },
    fileNames(input: RenderInput): readonly string[] {
      return specs(input.phone.mac, input.profile.commonFile ?? GENERIC_BOOT).map((s) => s.name);
    },
    render(input: RenderInput, name: string): PhoneFile | null {
      const mac = input.phone.mac;
      const commonFile = input.profile.commonFile ?? GENERIC_BOOT;
      const spec = findSpec(specs(mac, commonFile), name);
      if (!spec) return null;
      const p = prepare(input, TRANSPORT, { boot: `${mac}.boot`, common: commonFile, mac: `${mac}.cfg` });
      return renderSpec(deps, 'yealink', p, spec);
    },
    /**
     * MAC-less `y000000000000.boot` (template `macless-boot`: includes
     * `y000000000000.cfg` then `$MAC.cfg`, which the phone expands to its own
     * MAC-oriented file) and `y000000000000.cfg` / any profiled
     * `y0000000000NN.cfg` (template `macless.cfg`: re-sync and polling
     * settings and the HTTP provisioning URL, so the phone's next requests
     * carry its User-Agent). Yealink Administrator Guide "Boot Files": common
     * boot file, include:config with relative paths, files applied top to
     * bottom; `$MAC` in include paths as used by field provisioning servers.
     */
    renderCommon(name: string, input: CommonInput): PhoneFile | null {
      const n = name.toLowerCase();
      if (n === GENERIC_BOOT) return renderCommonSpec(deps, 'yealink', input, { name: GENERIC_BOOT, template: 'macless-boot', format: 'kv', contentType: KV });
      if (!/^y[0-9]{12}\.cfg$/.test(n)) return null;
      const models = deps.profiles.all().filter((p) => p.vendor === 'yealink' && p.commonFile === n);
      if (n !== GENERIC_CFG && models.length === 0) return null;
      const only = models.length === 1 ? models[0]?.model : undefined;
      return renderCommonSpec(deps, 'yealink', input, {
        name: n,
        template: 'macless.cfg',
        format: 'kv',
        contentType: KV,
        ...(only !== undefined ? { model: only } : {}),
      });
    },
  });
}
