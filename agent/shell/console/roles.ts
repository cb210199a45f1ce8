/**
 * Console roles and what each may do (docs/console.md "Roles").
 *
 * - `admin`: everything.
 * - `helpdesk`: see status, log users in and out, unlock, re-sync; never
 *   secrets (directory export with secrets), never a directory import, never
 *   a reset of a phone's enrolment.
 *
 * Pure module: the one table every route consults.
 */
import { HotdeskError } from '../../core/errors.js';

/** A console account's role. */
export type ConsoleRole = 'admin' | 'helpdesk';

/** Every role, in order of power. */
export const CONSOLE_ROLES: readonly ConsoleRole[] = ['admin', 'helpdesk'];

/** What a console request does. */
export type ConsoleAction =
  /** Any page or status read (phones, people, audit, directory without secrets). */
  | 'view'
  /** Log a user in on a phone, end a session, unlock, re-sync now. */
  | 'desk'
  /** Forget a phone's own provisioning credential. */
  | 'reset-enrolment'
  /** Validate, preview and apply a directory file. */
  | 'import'
  /** Download the directory with its secrets. */
  | 'secrets';

const ALLOWED: Readonly<Record<ConsoleRole, ReadonlySet<ConsoleAction>>> = {
  admin: new Set<ConsoleAction>(['view', 'desk', 'reset-enrolment', 'import', 'secrets']),
  helpdesk: new Set<ConsoleAction>(['view', 'desk']),
};

/** True when `role` may do `action`. */
export function roleAllows(role: ConsoleRole, action: ConsoleAction): boolean {
  return ALLOWED[role].has(action);
}

/** Throws `role-forbidden` unless `role` may do `action`. */
export function requireRole(role: ConsoleRole, action: ConsoleAction): void {
  if (!roleAllows(role, action)) throw new HotdeskError('role-forbidden', `the ${role} role may not do this (${action})`, { role, action });
}

/** True for a known role name. */
export function isConsoleRole(v: unknown): v is ConsoleRole {
  return v === 'admin' || v === 'helpdesk';
}
