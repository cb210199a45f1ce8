/**
 * `hotdesk sightings [accept MAC | dismiss MAC]`: the quarantine of unknown
 * phones that made contact without proving who they are (SIP PnP, or HTTP/TFTP
 * when the site allows anonymous enrolment). Listing, accepting one as an
 * enrolled phone, or dismissing it.
 */
import { HotdeskError } from '../core/errors.js';
import { loadFirmwareProfiles } from '../vendors/firmware-profile.js';
import { knownModelOf, sightingView } from '../shell/provisioning/sightings.js';
import { EXIT, JSON_OPTION, STORE_HELP, STORE_OPTION, UsageError, dataDir, defineCommand, optFlag, printJson, storeSetting, type Command } from './cli-kit.js';
import { withStore } from './cli-store.js';
import { formatTable, formatTime } from './table.js';

const help = `Usage: hotdesk sightings [--json] [--store URL] [--data DIR]
       hotdesk sightings accept MAC [--store URL] [--data DIR]
       hotdesk sightings dismiss MAC [--store URL] [--data DIR]

Unknown phones that made contact without proving who they are: a SIP PnP
request, or (with provisioning.anonymousEnrolment) an HTTP or TFTP request
without the bootstrap credential. They stay in quarantine, capped per source
address and in total, until an administrator accepts one (it becomes an
enrolled hot-desk phone, nobody logged in) or dismisses it. Phones that fetch
their own file with the site's bootstrap credential enrol themselves and
never appear here.

Options:
  --json       print a JSON array (listing)
${STORE_HELP}
`;

/** `hotdesk sightings`. */
export const sightingsCommand: Command = defineCommand(
  { name: 'sightings', help, options: { ...JSON_OPTION, ...STORE_OPTION }, positionals: { min: 0, max: 2, what: 'action and MAC' } },
  async (p, io) => {
    const [action, mac] = p.positionals;
    if (action !== undefined && action !== 'accept' && action !== 'dismiss') throw new UsageError(`unknown action '${action}' (accept or dismiss)`);
    if (action !== undefined && mac === undefined) throw new UsageError(`missing MAC for '${action}'`);
    const known = knownModelOf(loadFirmwareProfiles());
    return withStore(
      dataDir(p, io),
      async (store) => {
        if (action === 'accept' && mac !== undefined) {
          const phone = await store.acceptSighting(mac, known, Date.now());
          io.out(`accepted ${phone.mac} (${phone.vendor} ${phone.model}) as "${phone.label}": it gets its files at its next fetch\n`);
          return EXIT.ok;
        }
        if (action === 'dismiss' && mac !== undefined) {
          if (!(await store.dismissSighting(mac))) throw new HotdeskError('unknown-phone', `no sighting of ${mac}`);
          io.out(`dismissed ${mac}\n`);
          return EXIT.ok;
        }
        const rows = (await store.listSightings()).map((s) => sightingView(s, known));
        if (optFlag(p, 'json')) printJson(io, rows);
        else {
          const tz = (await store.getSite()).timezone;
          io.out(
            formatTable(
              ['mac', 'vendor', 'model', 'known', 'ip', 'via', 'last seen', 'count'],
              rows.map((r) => [r.mac, r.vendor, r.model, r.knownModel ?? '-', r.ip, r.via, formatTime(r.at, tz), r.count]),
            ),
          );
        }
        return EXIT.ok;
      },
      { store: storeSetting(p, io) },
    );
  },
);
