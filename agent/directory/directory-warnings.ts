/**
 * What `hotdesk import` points out without refusing the file: settings that
 * work but depend on something outside the agent (docs/voice.md "Emergency
 * numbers").
 *
 * Pure module.
 */
import { voiceSettings } from '../core/model.js';
import type { Directory } from './directory-types.js';

/** One warning: a stable code, and a sentence for people. */
export interface DirectoryWarning {
  readonly code: 'emergency-via-pbx';
  readonly message: string;
  /** MACs of the phones concerned. */
  readonly phones: readonly string[];
}

/** Warnings about `dir` (empty when there is nothing to say). */
export function directoryWarnings(dir: Directory): DirectoryWarning[] {
  const out: DirectoryWarning[] = [];
  const bare = dir.phones.filter((p) => p.hotdesk && p.deviceAccount === undefined).map((p) => p.mac);
  if (bare.length > 0) {
    const numbers = voiceSettings(dir.site).emergencyNumbers.join(', ');
    out.push({
      code: 'emergency-via-pbx',
      phones: bare,
      message:
        `${bare.length} hot-desk phone${bare.length === 1 ? ' has' : 's have'} no device account: while nobody is logged in, ` +
        `emergency numbers (${numbers}) dialled on ${bare.length === 1 ? 'it' : 'them'} reach the agent's hot-desk line, which redirects ` +
        `them (302) to the PBX (${dir.site.pbx.host}); the PBX must accept those calls. Give these phones a device account to ` +
        `send emergency calls straight to the PBX (docs/voice.md "Emergency numbers").`,
    });
  }
  return out;
}
