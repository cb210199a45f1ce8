/**
 * The store's prepared-statement cache: preparing costs more than running a
 * small query, so each SQL text is prepared once per store (up to 500 texts).
 */
import type Database from 'better-sqlite3';
import type { SqlFn } from './store-rows.js';

/** A function returning the prepared statement for an SQL text, prepared once on `db`. */
export function statementCache(db: Database.Database): SqlFn {
  const statements = new Map<string, Database.Statement>();
  return (text: string): Database.Statement => {
    let st = statements.get(text);
    if (st === undefined) {
      st = db.prepare(text);
      if (statements.size < 500) statements.set(text, st);
    }
    return st;
  };
}
