/**
 * The store's prepared-statement cache: preparing costs more than running a
 * small query, so each SQL text is prepared once per store (up to 500 texts).
 * An optional hook hears, before a statement is handed out, whether its text
 * touches the tables the store writes behind (`phones`, `audit`) and whether it
 * writes `phones` (store.ts flushes pending writes and drops its phone snapshot).
 */
import type Database from 'better-sqlite3';
import type { SqlFn } from './store-rows.js';

/** What a statement's text touches (judged once per text). */
export interface StatementUse {
  /** Reads or writes `phones` or `audit`. */
  readonly touchesDeferred: boolean;
  /** Writes `phones` (UPDATE, INSERT, DELETE, REPLACE). */
  readonly writesPhones: boolean;
}

interface Entry extends StatementUse {
  readonly st: Database.Statement;
}

const WRITES_PHONES = /\b(?:UPDATE(?:\s+OR\s+\w+)?|INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|DELETE\s+FROM)\s+phones\b/i;

function entryFor(db: Database.Database, text: string): Entry {
  const st = db.prepare(text);
  const touchesDeferred = /\b(?:phones|audit)\b/i.test(text);
  // Not `st.reader`: an UPDATE ... RETURNING is a reader too.
  return { st, touchesDeferred, writesPhones: WRITES_PHONES.test(text) };
}

/** A function returning the prepared statement for an SQL text, prepared once on `db`; `onUse` hears each hand-out. */
export function statementCache(db: Database.Database, onUse?: (use: StatementUse) => void): SqlFn {
  const statements = new Map<string, Entry>();
  return (text: string): Database.Statement => {
    let e = statements.get(text);
    if (e === undefined) {
      e = entryFor(db, text);
      if (statements.size < 500) statements.set(text, e);
    }
    if (onUse && (e.touchesDeferred || e.writesPhones)) onUse(e);
    return e.st;
  };
}
