/**
 * `hotdesk render --phone MAC [--file NAME]`: the files a phone may request
 * and, with `--file`, one file exactly as the phone would receive it now
 * (same drivers, templates incl. the site's `<data>/templates` overrides,
 * firmware profiles, store state and URLs as the server). Rendering here does
 * not count as a fetch: it confirms no sync and records nothing.
 *
 * The output holds the phone's secrets (SIP password of the user logged in,
 * provisioning credential, identity PINs): it is meant for the operator who
 * already has the data directory.
 */
import { join } from 'node:path';
import { HotdeskError } from '../core/errors.js';
import type { Phone } from '../core/model.js';
import { agentUrls, DEFAULT_BASE_URL } from '../shell/provisioning/agent-urls.js';
import { DEFAULT_AGENT_SIP_PORT, hotdeskLineInput, sipHostOf } from '../shell/provisioning/hotdesk-line-input.js';
import type { StoreData } from '../store/store-api.js';
import type { RenderInput, VendorDriver } from '../vendors/driver.js';
import { loadFirmwareProfiles, type FirmwareProfile } from '../vendors/firmware-profile.js';
import { createDriverRegistry } from '../vendors/registry.js';
import { renderPhoneFile } from '../vendors/render.js';
import { loadTemplateSources } from '../vendors/template-loader.js';
import {
  EXIT,
  JSON_OPTION,
  STORE_HELP,
  STORE_OPTION,
  UsageError,
  dataDir,
  optFlag,
  optInt,
  optString,
  printJson,
  defineCommand,
  storeSetting,
  type Command,
  phoneOption,
} from './cli-kit.js';
import { withStore } from './cli-store.js';

/** A phone's driver and render input, built from the store as the server builds it. */
export interface PhoneRender {
  readonly driver: VendorDriver;
  readonly input: RenderInput;
}

/**
 * Builds the render input of `phone` from the store's current state: site,
 * user logged in, identity keys, revision, provisioning credential, the
 * agent URLs from `base` (see shell/provisioning/agent-urls.ts) and the
 * hot-desk line, registering at the host of `base` and `sipPort` (default:
 * the site's `network.sipPort`, else {@link DEFAULT_AGENT_SIP_PORT}).
 */
export async function phoneRenderFor(
  store: StoreData,
  phone: Phone,
  profile: FirmwareProfile,
  driver: VendorDriver,
  base: string,
  sipPort?: number,
): Promise<PhoneRender> {
  const [runtime, session, site, identityKeys, line] = await Promise.all([
    store.phoneRuntime(phone.mac),
    store.sessionOf(phone.mac),
    store.getSite(),
    store.identityKeysFor(phone.mac),
    store.getHotdeskLine(phone.mac),
  ]);
  if (!runtime) throw new HotdeskError('unknown-phone', `no runtime state for phone ${phone.mac}`, { phone: phone.mac });
  const user = session ? ((await store.getUser(session.userExt)) ?? null) : null;
  const sip = { host: sipHostOf(base), port: sipPort ?? site.network?.sipPort ?? DEFAULT_AGENT_SIP_PORT };
  const input: RenderInput = {
    site,
    phone,
    profile,
    user,
    identityKeys,
    revision: runtime.revision,
    credential: { username: runtime.provUsername, password: runtime.provPassword },
    urls: agentUrls(base, phone, runtime.screenToken, profile.firmware?.file),
    hotdeskLine: hotdeskLineInput(line, phone, sip),
  };
  return { driver, input };
}

const renderHelp = `Usage: hotdesk render --phone MAC [--file NAME] [--base URL] [--sip-port N] [--json]
                      [--store URL] [--data DIR]

Without --file: list the names of the files the phone may request, one per
line, in boot order. With --file NAME: print that file exactly as the phone
would receive it now (current user, keys, revision). Rendering here is not a
fetch: it does not confirm a pending sync and is not recorded.

The files point back to the agent: base URL from the site setting
provisioning.baseUrl, else ${DEFAULT_BASE_URL} (or --base). A hot-desk
phone's hot-desk line registers at the host of that URL, on the SIP port
from network.sipPort, else ${DEFAULT_AGENT_SIP_PORT} (or --sip-port).
Printed files may hold the phone's secrets (SIP password, provisioning
credential, identity PINs).

Options:
  --phone MAC   the phone
  --file NAME   the file to print (vendor case rules apply)
  --base URL    base URL the files point back to (overrides the site's)
  --sip-port N  the agent's SIP UDP port the hot-desk line registers to
  --json        list: [{name, secret, carriesRevision, contentType}];
                file: {name, contentType, secret, carriesRevision, body}
${STORE_HELP}

Examples:
  hotdesk render --phone 001565aabb01
  hotdesk render --phone 001565aabb01 --file 001565aabb01.cfg
`;

/** `hotdesk render`. */
export const renderCommand: Command = defineCommand(
  {
    name: 'render',
    help: renderHelp,
    options: { ...JSON_OPTION, ...STORE_OPTION, phone: { type: 'string' }, file: { type: 'string' }, base: { type: 'string' }, 'sip-port': { type: 'string' } },
  },
  async (p, io) => {
    const mac = phoneOption(p);
    const file = optString(p, 'file');
    if (file === '') throw new UsageError('--file must not be empty');
    const baseOpt = optString(p, 'base');
    if (baseOpt !== undefined && !/^https?:\/\/[^/\s]+/.test(baseOpt)) throw new UsageError('--base must be an http(s) URL');
    const sipPort = optInt(p, 'sip-port');
    if (sipPort !== undefined && (sipPort < 1 || sipPort > 65_535)) throw new UsageError('--sip-port must be between 1 and 65535');
    const dir = dataDir(p, io);
    return withStore(
      dir,
      async (store) => {
        const phone = await store.getPhone(mac);
        if (!phone) throw new HotdeskError('unknown-phone', `no phone ${mac} in the directory`, { phone: mac });
        const profiles = loadFirmwareProfiles();
        const profile = profiles.find(phone.vendor, phone.model);
        if (!profile)
          throw new HotdeskError('unknown-model', `no firmware profile for ${phone.vendor} ${phone.model}`, { vendor: phone.vendor, model: phone.model });
        const registry = createDriverRegistry({ profiles, sources: loadTemplateSources({ siteDir: join(dir, 'templates') }) });
        const base = baseOpt ?? (await store.getSite()).provisioning.baseUrl ?? DEFAULT_BASE_URL;
        const { driver, input } = await phoneRenderFor(store, phone, profile, registry.driverFor(phone.vendor), base, sipPort);
        const json = optFlag(p, 'json');
        if (file === undefined) {
          const names = driver.fileNames(input);
          if (json) {
            printJson(
              io,
              names.map((n) => {
                const f = renderPhoneFile(driver, input, n);
                return { name: f.name, secret: f.secret, carriesRevision: f.carriesRevision, contentType: f.contentType };
              }),
            );
          } else io.out(names.map((n) => `${n}\n`).join(''));
          return EXIT.ok;
        }
        const f = renderPhoneFile(driver, input, file);
        if (json) printJson(io, { name: f.name, contentType: f.contentType, secret: f.secret, carriesRevision: f.carriesRevision, body: f.body });
        else io.out(f.body);
        return EXIT.ok;
      },
      { store: storeSetting(p, io) },
    );
  },
);
