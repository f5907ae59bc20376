import { describe, expect, it } from 'vitest';
import { leftoverOf, sessionResetSql } from './session-reset.js';

describe('sessionResetSql', () => {
  it('resets settings, the role, LISTEN, cursors, temporary objects and advisory locks, then reports what is left', () => {
    const sql = sessionResetSql("gatehouse:o'brien:crm__query");
    expect(sql.split(';\n').slice(0, 6)).toEqual(['RESET ALL', 'RESET ROLE', 'UNLISTEN *', 'CLOSE ALL', 'DISCARD TEMP', 'DISCARD SEQUENCES']);
    expect(sql).toContain('pg_catalog.pg_advisory_unlock_all()');
    expect(sql).toContain("pg_catalog.set_config('application_name', 'gatehouse:o''brien:crm__query', false)");
    expect(sql).toContain('pg_prepared_statements WHERE from_sql');
    expect(sql).not.toContain('DEALLOCATE');
  });
});

describe('leftoverOf', () => {
  const result = (leftover: string | null) => ({
    fields: [{ name: 'unlocked' }, { name: 'application_name' }, { name: 'leftover' }],
    rows: [[true, 'x', leftover]],
  });
  it('reads the last result of the multi-statement reset', () => {
    expect(leftoverOf([{ rows: [] }, { rows: [] }, result('')])).toBe('');
    expect(leftoverOf([{ rows: [] }, result('1 prepared statement(s)')])).toBe('1 prepared statement(s)');
    expect(leftoverOf({ fields: [{ name: 'leftover' }], rows: [{ leftover: 'role crm_reader' }] })).toBe('role crm_reader');
  });
  it('treats a missing answer as a dirty session (the connection is then closed)', () => {
    expect(leftoverOf([])).toBe('no answer from the reset');
    expect(leftoverOf([{ rows: [] }])).toBe('no answer from the reset');
  });
});
