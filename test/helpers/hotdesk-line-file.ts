/**
 * Reads the hot-desk line and the user's line out of a phone's rendered
 * secret file, in each vendor's own syntax, the way the phone itself would
 * find them: the account labelled "Hot desk" (Yealink `account.N.label`,
 * Snom `user_realname idx=N`, Poly `reg.N.label`) and its user name and
 * password; and the SIP user of account slot 1.
 */
import type { DemoPhone } from './agent-harness.js';

/** The hot-desk line's account as the phone's file gives it. */
export interface LineAccount {
  readonly slot: number;
  readonly username: string;
  readonly password: string;
  /** Registrar host and port as configured. */
  readonly server: string;
}

function one(body: string, re: RegExp, what: string): string {
  const m = re.exec(body);
  if (!m?.[1]) throw new Error(`no ${what} in the file`);
  return m[1];
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The account labelled "Hot desk" in `body`, a `vendor` secret file. Throws when there is none. */
export function hotdeskLineAccount(vendor: DemoPhone['vendor'], body: string, label = 'Hot desk'): LineAccount {
  if (vendor === 'yealink') {
    const slot = Number(one(body, new RegExp(`^account\\.(\\d+)\\.label = ${esc(label)}$`, 'm'), 'Yealink hot-desk account'));
    const v = (key: string): string => one(body, new RegExp(`^account\\.${slot}\\.${esc(key)} = (.*)$`, 'm'), `account.${slot}.${key}`);
    return { slot, username: v('user_name'), password: v('password'), server: `${v('sip_server.1.address')}:${v('sip_server.1.port')}` };
  }
  if (vendor === 'snom') {
    const slot = Number(one(body, new RegExp(`<user_realname idx="(\\d+)"[^>]*>${esc(label)}</user_realname>`), 'Snom hot-desk identity'));
    const v = (key: string): string => one(body, new RegExp(`<${key} idx="${slot}"[^>]*>([^<]*)</${key}>`), `${key} idx=${slot}`);
    return { slot, username: v('user_name'), password: v('user_pass'), server: v('user_host') };
  }
  const slot = Number(one(body, new RegExp(`reg\\.(\\d+)\\.label="${esc(label)}"`), 'Poly hot-desk registration'));
  const v = (key: string): string => one(body, new RegExp(`reg\\.${slot}\\.${esc(key)}="([^"]*)"`), `reg.${slot}.${key}`);
  return { slot, username: v('auth.userId'), password: v('auth.password'), server: `${v('server.1.address')}:${v('server.1.port')}` };
}

/** The SIP user account slot 1 carries in `body` ('' when the slot is empty). */
export function slotOneUser(vendor: DemoPhone['vendor'], body: string): string {
  if (vendor === 'yealink') return /^account\.1\.user_name = (.*)$/m.exec(body)?.[1] ?? '';
  if (vendor === 'snom') return /<user_name idx="1"[^>]*>([^<]*)<\/user_name>/.exec(body)?.[1] ?? '';
  return /reg\.1\.address="([^"]*)"/.exec(body)?.[1] ?? '';
}
