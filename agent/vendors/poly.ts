/**
 * Poly (Polycom) VVX driver, UC Software 5/6.
 *
 * Files (docs/vendors.md "Files each phone fetches"): master `<mac>.cfg` (else
 * `000000000000.cfg`) lists `[PHONE_MAC_ADDRESS]-hotdesk.cfg` (registrations,
 * keys, provisioning credential, config revision: the one secret file) and
 * `[PHONE_MAC_ADDRESS]-site.cfg` (no secrets). `device.*` parameters carry a
 * companion `.set="1"`. Re-sync: NOTIFY `Event: check-sync` with
 * `voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"`.
 * `device.prov.serverName` is written as host[:port]/path and the scheme as
 * `device.prov.serverType` (`HTTP`/`HTTPS`): the Administrator Guide's device
 * parameters take a server name with the protocol chosen by serverType, and
 * field templates and phone exports write it that way.
 * One-touch identity keys are enhanced feature keys: `efk.efklist.N` macros
 * whose action string is `<digits>$Tinvite$` (Administrator Guide, "Enhanced
 * Feature Keys"), shown on line keys by `lineKey.N.category="EFK"` with
 * `feature.EFKLineKey.enabled="1"` on profiles with `capabilities.efk`
 * (docs/firmware-profiles.md "Poly one-touch keys" lists what confirms it).
 *
 * The User-Agent carries no MAC (the MAC comes from the path), only the
 * model token and UC Software version: VVX `FileTransport
 * PolycomVVX-VVX_450-UA/6.4.0.0000 Type/Application`, SoundPoint IP
 * `PolycomSoundPointIP-SPIP_335-UA/4.0.15`, Edge E `PolyEdge-Edge_E450-UA/8.0.0`
 * (forms seen by wazo-provd-plugins wazo-polycom and the polycomphones FreePBX
 * module). Files the phone may upload or
 * probe (`<mac>-phone.cfg`, `<mac>-app.log`, `<mac>-boot.log`,
 * `<mac>-directory.xml`) are identified but not rendered (render returns null).
 *
 * Pure module.
 */
import type { CommonInput, Identification, PhoneFile, RenderInput, VendorDriver } from './driver.js';
import { findSpec, identification, prepare, renderCommonSpec, renderSpec, userAgentVendor, type DriverDeps, type FileSpec } from './driver-kit.js';
import { polyScreens } from './screens/poly-screens.js';

const XML = 'application/xml; charset=utf-8';
/** `reg.N.server.1.transport` values. */
const TRANSPORT = { udp: 'UDPOnly', tcp: 'TCPOnly', tls: 'TLS' } as const;
const MASTER_DEFAULT = '000000000000.cfg';
const PATH_RE = /^([0-9a-f]{12})(\.cfg|-hotdesk\.cfg|-site\.cfg|-phone\.cfg|-web\.cfg|-app\.log|-boot\.log|-directory\.xml|-calls\.xml)$/;
/** `PolycomVVX-VVX_450-UA/6.4.0`, `PolycomSoundPointIP-SPIP_335-UA/4.0.15`, `PolyEdge-Edge_E450-UA/8.0.0`: token and version. */
const UA_RE = /\bPoly(?:com)?[A-Za-z]*-([A-Za-z0-9_]+)-UA\/(\S+)/i;

function specs(mac: string): FileSpec[] {
  const master = (name: string): FileSpec => ({ name, template: 'master.cfg', format: 'xml', contentType: XML, secret: false, carriesRevision: false });
  return [
    master(`${mac}.cfg`),
    master(MASTER_DEFAULT),
    { name: `${mac}-hotdesk.cfg`, template: 'hotdesk.cfg', format: 'xml', contentType: XML, secret: true, carriesRevision: true },
    { name: `${mac}-site.cfg`, template: 'site.cfg', format: 'xml', contentType: XML, secret: false, carriesRevision: false },
  ];
}

/** Creates the Poly driver over loaded templates and profiles. */
export function createPolyDriver(deps: DriverDeps): VendorDriver {
  return Object.freeze({
    vendor: 'poly' as const,
    checkSyncEvent: 'check-sync',
    screens: polyScreens,
    isSecretFile: (name: string): boolean => /^[0-9a-f]{12}-hotdesk\.cfg$/i.test(name),
    identify(path: string, userAgent: string | undefined): Identification | null {
      const uaVendor = userAgentVendor(userAgent);
      if (uaVendor !== undefined && uaVendor !== 'poly') return null;
      const name = path.toLowerCase();
      const m = PATH_RE.exec(name);
      if (!m?.[1]) return null;
      const macFromPath = m[1] === '000000000000' ? undefined : m[1];
      if (macFromPath === undefined && name !== MASTER_DEFAULT) return null;
      let model: string | undefined;
      let firmware: string | undefined;
      const ua = userAgent !== undefined ? UA_RE.exec(userAgent) : null;
      if (ua?.[1]) {
        model = deps.profiles.findByUserAgentName('poly', ua[1])?.model ?? ua[1].replace(/_/g, '').toUpperCase();
        firmware = ua[2];
      }
      return identification('poly', name, { macFromPath, model, firmware });
    },
    fileNames(input: RenderInput): readonly string[] {
      return specs(input.phone.mac).map((s) => s.name);
    },
    render(input: RenderInput, name: string): PhoneFile | null {
      const mac = input.phone.mac;
      const spec = findSpec(specs(mac), name);
      if (!spec) return null;
      const p = prepare(input, TRANSPORT, { master: `${mac}.cfg`, hotdesk: `${mac}-hotdesk.cfg`, site: `${mac}-site.cfg` });
      return renderSpec(deps, 'poly', p, spec);
    },
    /**
     * MAC-less default master `000000000000.cfg` (template
     * `macless-master.cfg`): lists `[PHONE_MAC_ADDRESS]-hotdesk.cfg` and
     * `[PHONE_MAC_ADDRESS]-site.cfg`, which the phone expands to its own MAC
     * (Polycom Administrator Guide, "Master Configuration Files": the default
     * master is used when `<Ethernet address>.cfg` is not found).
     */
    renderCommon(name: string, input: CommonInput): PhoneFile | null {
      if (name.toLowerCase() !== MASTER_DEFAULT) return null;
      return renderCommonSpec(deps, 'poly', input, { name: MASTER_DEFAULT, template: 'macless-master.cfg', format: 'xml', contentType: XML });
    },
  });
}
