/**
 * Reads and validates the optional `voice:` block of the site (docs/directory.md
 * "voice"): the hot-desk line every hot-desk phone carries and the agent's own
 * voice on it. Absent fields take {@link DEFAULT_VOICE_SETTINGS}.
 */
import { DEFAULT_VOICE_SETTINGS, VOICE_LANGUAGES, type VoiceLanguage, type VoiceSettings } from '../core/model.js';
import { parseCidr } from '../protocols/cidr.js';
import type { At, YamlReader } from './yaml-reader.js';

/** An emergency number: 1 to 15 digits (what a phone's digit map can match exactly). */
const EMERGENCY_RE = /^[0-9]{1,15}$/;
/** A digest realm goes between quotes in SIP headers (RFC 3261 §25.1 quoted-string). */
const REALM_RE = /^[\x20-\x7e]{1,64}$/;

/** Reads `site.voice`; problems are collected in `r`. Absent: no `voice` field (the defaults apply). */
export function readVoice(r: YamlReader, at: At): { voice?: VoiceSettings } {
  const f = r.map(at, ['language', 'emergencyNumbers', 'lineKey', 'realm', 'pbxAddresses']);
  if (!f) return {};
  const d = DEFAULT_VOICE_SETTINGS;
  const language = r.choice<VoiceLanguage>(f('language'), VOICE_LANGUAGES, d.language);
  let emergencyNumbers: string[] = [...d.emergencyNumbers];
  if (f('emergencyNumbers').node !== undefined) {
    emergencyNumbers = [];
    for (const item of r.seq(f('emergencyNumbers'))) {
      const n = r.str(item, { required: true });
      if (n === undefined) continue;
      if (!EMERGENCY_RE.test(n)) r.fail(item, 'must be 1 to 15 digits, quoted, e.g. "112"');
      else if (emergencyNumbers.includes(n)) r.fail(item, `lists "${n}" twice`);
      else emergencyNumbers.push(n);
    }
  }
  const realm = r.str(f('realm'), { nonEmpty: true }) ?? d.realm;
  if (!REALM_RE.test(realm) || /["\\]/.test(realm)) r.fail(f('realm'), 'must be 1 to 64 printable characters without quotes or backslashes');
  const pbxAddresses: string[] = [];
  for (const item of r.seq(f('pbxAddresses'))) {
    const v = r.str(item, { required: true });
    if (v === undefined) continue;
    try {
      parseCidr(v);
      pbxAddresses.push(v.trim());
    } catch {
      r.fail(item, 'must be an address or network, e.g. "10.0.0.10" or "10.0.0.0/24"');
    }
  }
  return { voice: { language, emergencyNumbers, lineKey: r.bool(f('lineKey'), d.lineKey), realm, pbxAddresses } };
}
