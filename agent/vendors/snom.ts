/**
 * Snom driver (D3xx, D7xx).
 *
 * Files (docs/vendors.md "Files each phone fetches"): with a setting server URL without a file
 * name the phone fetches `snom<MODEL>.htm` then `snom<MODEL>-<MAC>.htm` (MAC
 * upper-case; matched case-insensitively). `snom<MODEL>.htm` holds no secrets;
 * `snom<MODEL>-<MAC>.htm` holds the identities, function keys, provisioning
 * credential and the config revision. `snom<MODEL>-firmware.xml` (a
 * `<firmware-settings>` file named by `firmware_status`) exists only when the
 * profile names firmware. Re-sync: NOTIFY `Event: check-sync;reboot=false`
 * and `checksync_action` = `sync`.
 *
 * User-Agent forms: `Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)`,
 * the same with a `(build date)` group before the MAC, and without a MAC
 * (`Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)`).
 *
 * Pure module.
 */
import type { CommonInput, Identification, PhoneFile, RenderInput, VendorDriver } from './driver.js';
import { findSpec, identification, prepare, renderCommonSpec, renderSpec, userAgentVendor, type DriverDeps, type FileSpec } from './driver-kit.js';
import { snomScreens } from './screens/snom-screens.js';

const XML = 'application/xml; charset=utf-8';
/** `user_outbound` `;transport=` values. */
const TRANSPORT = { udp: 'udp', tcp: 'tcp', tls: 'tls' } as const;
const FILE_RE = /^snom([a-z0-9_]+?)(?:-([0-9a-f]{12}))?\.htm$/i;
const FIRMWARE_RE = /^snom([a-z0-9_]+?)-firmware\.xml$/i;
/** Firmware is the version number only (`snom320-SIP 6.5.20; snom320 jffs2 ...` gives 6.5.20). */
const UA_RE = /\b(snom[A-Za-z0-9_]+)-SIP\s+([0-9][0-9A-Za-z.]*)/i;

function specs(fileModel: string, mac: string, firmware: boolean): FileSpec[] {
  const out: FileSpec[] = [
    { name: `snom${fileModel}.htm`, template: 'model.htm', format: 'xml', contentType: XML, secret: false, carriesRevision: false },
    { name: `snom${fileModel}-${mac.toUpperCase()}.htm`, template: 'mac.htm', format: 'xml', contentType: XML, secret: true, carriesRevision: true },
  ];
  if (firmware)
    out.push({ name: `snom${fileModel}-firmware.xml`, template: 'firmware.xml', format: 'xml', contentType: XML, secret: false, carriesRevision: false });
  return out;
}

/** Creates the Snom driver over loaded templates and profiles. */
export function createSnomDriver(deps: DriverDeps): VendorDriver {
  return Object.freeze({
    vendor: 'snom' as const,
    checkSyncEvent: 'check-sync;reboot=false',
    screens: snomScreens,
    isSecretFile: (name: string): boolean => FILE_RE.exec(name)?.[2] !== undefined,
    identify(path: string, userAgent: string | undefined): Identification | null {
      const uaVendor = userAgentVendor(userAgent);
      if (uaVendor !== undefined && uaVendor !== 'snom') return null;
      const f = FILE_RE.exec(path) ?? FIRMWARE_RE.exec(path);
      if (!f?.[1]) return null;
      const pathProfile = deps.profiles.findByFileModelName('snom', f[1]);
      const fileModel = pathProfile?.fileModelName ?? f[1].toUpperCase();
      const macFromPath = f[2]?.toLowerCase();
      const file = FIRMWARE_RE.test(path)
        ? `snom${fileModel}-firmware.xml`
        : macFromPath
          ? `snom${fileModel}-${macFromPath.toUpperCase()}.htm`
          : `snom${fileModel}.htm`;
      let model = pathProfile?.model ?? fileModel;
      let firmware: string | undefined;
      let macFromUserAgent: string | undefined;
      const ua = userAgent !== undefined ? UA_RE.exec(userAgent) : null;
      if (ua?.[1] && userAgent !== undefined) {
        const p = deps.profiles.findByUserAgentName('snom', ua[1]);
        if (p && !pathProfile) model = p.model;
        firmware = ua[2];
        const rest = userAgent.slice(ua.index + ua[0].length);
        const m = /(?:^|[\s(])([0-9A-Fa-f]{12})(?=[\s)]|$)/.exec(rest);
        macFromUserAgent = m?.[1]?.toLowerCase();
      }
      return identification('snom', file, { macFromPath, macFromUserAgent, model, firmware });
    },
    fileNames(input: RenderInput): readonly string[] {
      return specs(input.profile.fileModelName, input.phone.mac, input.urls.firmware !== undefined).map((s) => s.name);
    },
    render(input: RenderInput, name: string): PhoneFile | null {
      const fm = input.profile.fileModelName;
      const mac = input.phone.mac;
      const spec = findSpec(specs(fm, mac, input.urls.firmware !== undefined), name);
      if (!spec) return null;
      const p = prepare(input, TRANSPORT, { model: `snom${fm}.htm`, mac: `snom${fm}-${mac.toUpperCase()}.htm`, firmware: `snom${fm}-firmware.xml` });
      return renderSpec(deps, 'snom', p, spec);
    },
    /**
     * MAC-less `snom<MODEL>.htm` of a profiled model (template
     * `macless-model.htm`): sets `setting_server` to the provisioning
     * directory without a file name, so the phone then fetches
     * `snom<MODEL>.htm` and `snom<MODEL>-<MAC>.htm` from it over HTTP (Snom
     * "Auto Provisioning", Step 2: what URLs to fetch).
     */
    renderCommon(name: string, input: CommonInput): PhoneFile | null {
      const f = FILE_RE.exec(name);
      if (!f?.[1] || f[2] !== undefined) return null;
      const profile = deps.profiles.findByFileModelName('snom', f[1]);
      if (!profile) return null;
      return renderCommonSpec(deps, 'snom', input, {
        name: `snom${profile.fileModelName}.htm`,
        template: 'macless-model.htm',
        format: 'xml',
        contentType: XML,
        model: profile.model,
      });
    },
  });
}
