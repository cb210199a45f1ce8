/**
 * The console's audit table and CSV name the agent of each event when the events carry one (a shared
 * PostgreSQL store), and keep their SQLite shape when none does.
 */
import { describe, expect, it } from 'vitest';
import type { StoredAuditEvent } from '../../../agent/shell/api/event-stream.js';
import { auditCsv, auditTable } from '../../../agent/shell/console/audit-view.js';

const AT = Date.UTC(2026, 10, 30, 9, 0, 0);
const sqliteEvents: StoredAuditEvent[] = [{ id: 1, at: AT, kind: 'login', phone: '001565aabb01', user: '001' }];
const sharedEvents: StoredAuditEvent[] = [
  { id: 1, at: AT, kind: 'login', phone: '001565aabb01', user: '001', agent: 'ams-1' },
  { id: 2, at: AT + 1000, kind: 'sync-confirmed', phone: '001565aabb02', agent: 'utr-1' },
];

describe('audit view', () => {
  it('has no Agent column when no event names an agent', () => {
    expect(String(auditTable(sqliteEvents, 'UTC'))).not.toContain('Agent');
    expect(auditCsv(sqliteEvents).split('\r\n')[0]).toBe('id,time,kind,phone,user,detail');
  });

  it('shows which agent wrote each event on a shared store', () => {
    const table = String(auditTable(sharedEvents, 'UTC'));
    expect(table).toContain('<th scope="col">Agent</th>');
    // Newest first: utr-1's event comes before ams-1's.
    expect(table.indexOf('<td>utr-1</td>')).toBeGreaterThan(0);
    expect(table.indexOf('<td>utr-1</td>')).toBeLessThan(table.indexOf('<td>ams-1</td>'));
    const csv = auditCsv(sharedEvents).split('\r\n');
    expect(csv[0]).toBe('id,time,kind,phone,user,detail,agent');
    expect(csv[1]?.endsWith(',ams-1')).toBe(true);
    expect(csv[2]?.endsWith(',utr-1')).toBe(true);
  });
});
