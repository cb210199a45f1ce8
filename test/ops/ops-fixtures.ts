/**
 * Fixtures for the operations tests: a directory file with the demo site block
 * and many generated users and phones (for login storms), and a free UDP port
 * that nothing listens on.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES_DIR } from '../../agent/paths.js';

/** The demo's `site:` block, verbatim. */
export function demoSiteBlock(): string {
  const demo = readFileSync(join(EXAMPLES_DIR, 'demo.yaml'), 'utf8');
  return demo.slice(demo.indexOf('\nsite:') + 1, demo.indexOf('\nusers:'));
}

/** Short number of generated user `i` (4 digits, from 2000). */
export const extOf = (i: number): string => String(2000 + i);
/** PIN of generated user `i`. */
export const pinOf = (i: number): string => String(500000 + i);
/** MAC of generated Yealink phone `i`. */
export const macOf = (i: number): string => `001565${(0xcc0000 + i).toString(16)}`;

/** A directory with `n` users and `n` Yealink T46U hot desks (plus extra YAML per user if given). */
export function directoryYaml(n: number, extraUsers = ''): string {
  const users: string[] = [];
  const phones: string[] = [];
  for (let i = 0; i < n; i++) {
    users.push(`  - ext: "${extOf(i)}"\n    name: Person ${i}\n    pin: "${pinOf(i)}"\n    sip:\n      user: "${extOf(i)}"\n      password: secret-${i}-pw\n`);
    phones.push(`  - mac: "${macOf(i)}"\n    vendor: yealink\n    model: T46U\n    label: Desk ${i}\n`);
  }
  return `${demoSiteBlock()}\nusers:\n${users.join('')}${extraUsers}\nphones:\n${phones.join('')}`;
}

/** A UDP port on 127.0.0.1 that was free a moment ago (nothing listens on it). */
export async function closedUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
