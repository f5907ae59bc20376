import { describe, expect, it } from 'vitest';
import { SanitizeConfigSchema } from '../../sanitize/config-schema.js';
import { HeldValues } from '../../sanitize/detect/index.js';
import { OutputRefusedError, OutputSanitizer } from '../../sanitize/index.js';
import { outputRules, type ServerOutputConfig } from '../../sanitize/output-rules.js';
import type { Principal } from '../../tokens/index.js';
import type { CallContext } from '../types.js';
import { sanitizeStage } from './sanitize.js';

function principal(over: Partial<Principal> = {}): Principal {
  return {
    sub: 'ann',
    groups: [],
    clientId: 'gatehouse-cli',
    scopes: ['mcp'],
    jti: 'j',
    issuedAt: 0,
    expiresAt: 0,
    act: [],
    authorizationDetails: undefined,
    authTime: undefined,
    amr: [],
    grantId: undefined,
    dpopJkt: undefined,
    claims: {},
    ...over,
  };
}

function ctx(tool: string, who: Principal): CallContext {
  return {
    requestId: 'r',
    rpcId: 1,
    principal: who,
    origin: { sessionId: 's', ip: undefined, clientName: undefined, protocolVersion: undefined },
    op: { method: 'tools/call', action: 'call', kind: 'tool', server: 'db', name: tool, id: `db__${tool}`, args: {} },
    params: {},
    signal: new AbortController().signal,
    startedAt: 0,
    progress: undefined,
    decision: undefined,
    intentSeq: undefined,
    notes: {},
    control: {},
  };
}

const servers: Record<string, ServerOutputConfig> = {
  db: {
    fields: { salary: 'confidential' },
    tools: {
      rows: { limits: { maxRows: 2, maxItems: 1 } },
      big: { limits: { maxBytes: 10 } },
      patients: { aggregateOnly: true },
      payroll: { classification: 'secret' },
    },
  },
};
const sanitize = SanitizeConfigSchema.parse({ clearance: { groups: { hr: 'confidential', ciso: 'secret' } } });
const rules = outputRules(servers, sanitize, new Set(['registered-app']));
const stage = sanitizeStage(new OutputSanitizer(new HeldValues()), rules);
const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, dept: i % 2 ? 'ops' : 'dev', salary: 1000 + i }));

describe('sanitize stage: classification, clearance and limits', () => {
  it('cuts rows and items to the tool limits and says so in the result, the report and _meta', async () => {
    const c = ctx('rows', principal({ groups: ['hr'] }));
    const payload = { rows: rowsOf(5) };
    const out = (await stage.run(c, async () => ({
      content: [
        { type: 'text', text: JSON.stringify(payload) },
        { type: 'text', text: 'second' },
      ],
      structuredContent: payload,
    }))) as {
      content: { text: string }[];
      structuredContent: { rows: unknown[] };
      _meta: Record<string, unknown>;
    };
    expect(out.structuredContent.rows).toHaveLength(2);
    expect(JSON.parse(out.content[0]!.text).rows).toHaveLength(2);
    expect(out.content).toHaveLength(2);
    expect(out.content[1]!.text).toBe('[Gatehouse: partial result: 1 of 2 content items shown (limit maxItems=1); 2 of 5 rows shown (limit maxRows=2)]');
    expect(out._meta['gatehouse/partial']).toMatchObject({ truncated: { items: [1, 2], rows: [2, 5] } });
    expect(c.notes.sanitize).toMatchObject({ channel: 'result', truncated: { items: [1, 2], rows: [2, 5] }, outcome: 'relayed' });
  });

  it('cuts text to maxBytes without splitting a character', async () => {
    const c = ctx('big', principal());
    const out = (await stage.run(c, async () => ({ content: [{ type: 'text', text: 'ééééééééé' }] }))) as { content: { text: string }[] };
    expect(out.content[0]!.text).toBe('ééééé');
    expect(out.content[1]!.text).toContain('10 of 18 bytes of text shown');
  });

  it('aggregate-only: rows become counts and summaries, no row values', async () => {
    const c = ctx('patients', principal({ groups: ['ciso'] }));
    const payload = { rows: rowsOf(6) };
    const out = (await stage.run(c, async () => ({ content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload }))) as {
      structuredContent: unknown;
    };
    expect(out.structuredContent).toEqual({
      rows: {
        aggregateOnly: true,
        rowCount: 6,
        columns: {
          id: { nonNull: 6, distinct: 6, min: 0, max: 5 },
          dept: { nonNull: 6, distinct: 2 },
          salary: { nonNull: 6, distinct: 6, min: 1000, max: 1005 },
        },
      },
    });
    expect(c.notes.sanitize).toMatchObject({ aggregated: 6 });
  });

  it('aggregate-only: fewer than five rows give no count and no ranges (they would be the rows themselves)', async () => {
    for (const n of [1, 2, 4]) {
      const c = ctx('patients', principal({ groups: ['ciso'] }));
      const payload = { rows: rowsOf(n) };
      const out = (await stage.run(c, async () => ({ content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload }))) as {
        content: { text: string }[];
        structuredContent: unknown;
      };
      expect(out.structuredContent).toEqual({ rows: { aggregateOnly: true, rowCount: '<5', note: 'fewer than 5 rows: no per-column summary' } });
      expect(out.content[0]!.text).not.toContain('1000');
      expect(JSON.stringify(out)).not.toMatch(/"salary":\s*10/);
    }
  });

  it('aggregate-only applies to database-shaped results (columns + array rows), the text copy included', async () => {
    const c = ctx('patients', principal({ groups: ['ciso'] }));
    const payload = {
      columns: ['id', 'name', 'salary'],
      rows: Array.from({ length: 7 }, (_, i) => [i, `p${i}`, 2000 + i]),
      rowCount: 7,
      truncated: false,
    };
    const out = (await stage.run(c, async () => ({ content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload }))) as {
      content: { text: string }[];
      structuredContent: unknown;
    };
    const summary = {
      columns: ['id', 'name', 'salary'],
      rows: {
        aggregateOnly: true,
        rowCount: 7,
        columns: {
          id: { nonNull: 7, distinct: 7, min: 0, max: 6 },
          name: { nonNull: 7, distinct: 7 },
          salary: { nonNull: 7, distinct: 7, min: 2000, max: 2006 },
        },
      },
    };
    expect(out.structuredContent).toEqual(summary);
    expect(JSON.parse(out.content[0]!.text)).toEqual(summary);
    expect(out.content[0]!.text).not.toContain('p3');
    // A small result says nothing, not even the count the connector put beside the rows.
    const small = { columns: ['id'], rows: [[41]], rowCount: 1, truncated: false };
    const c2 = ctx('patients', principal({ groups: ['ciso'] }));
    const few = (await stage.run(c2, async () => ({ content: [{ type: 'text', text: JSON.stringify(small) }], structuredContent: small }))) as {
      content: { text: string }[];
      structuredContent: unknown;
    };
    expect(few.structuredContent).toEqual({ columns: ['id'], rows: { aggregateOnly: true, rowCount: '<5', note: 'fewer than 5 rows: no per-column summary' } });
    expect(few.content[0]!.text).not.toContain('41');
    expect(few.content[0]!.text).not.toContain('"rowCount":1');
  });

  it('withholds classified columns of database-shaped results by column name, and cuts their rows', async () => {
    const payload = {
      columns: ['id', 'Salary', 'dept'],
      rows: [
        [1, 1000, 'ops'],
        [2, null, 'dev'],
        [3, 3000, 'ops'],
      ],
      rowCount: 3,
      truncated: false,
    };
    const c = ctx('rows', principal());
    const out = (await stage.run(c, async () => ({ content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload }))) as {
      content: { text: string }[];
      structuredContent: { rows: unknown[][] };
    };
    // `salary` is classified; the column name matches whatever its case, null stays null.
    expect(out.structuredContent.rows).toEqual([
      [1, '[WITHHELD:confidential]', 'ops'],
      [2, null, 'dev'],
    ]);
    expect(out.content[0]!.text).not.toContain('1000');
    expect(c.notes.sanitize).toMatchObject({ withheld: { names: ['Salary'], clearance: 'internal' }, truncated: { rows: [2, 3] } });
  });

  it('a table.column key withholds that column by name', async () => {
    const byTable = outputRules({ db: { fields: { 'hr.employees.ssn': 'secret' } } }, sanitize, new Set());
    const s = sanitizeStage(new OutputSanitizer(new HeldValues()), byTable);
    const c = ctx('list', principal({ groups: ['hr'] }));
    const out = (await s.run(c, async () => ({ content: [], structuredContent: { columns: ['id', 'ssn'], rows: [[1, 'x-1']] } }))) as {
      structuredContent: { rows: unknown[][] };
    };
    expect(out.structuredContent.rows).toEqual([[1, '[WITHHELD:secret]']]);
    expect(c.clearance).toBe('confidential');
  });

  it('withholds fields above the clearance; the report names the field and the clearance', async () => {
    const c = ctx('list', principal());
    const out = (await stage.run(c, async () => ({ content: [], structuredContent: { rows: rowsOf(2) } }))) as {
      structuredContent: { rows: { salary: unknown }[] };
    };
    expect(out.structuredContent.rows.map((r) => r.salary)).toEqual(['[WITHHELD:confidential]', '[WITHHELD:confidential]']);
    expect(c.notes.sanitize).toMatchObject({ withheld: { fields: 2, names: ['salary'], clearance: 'internal' } });
  });

  it('an unverified dynamically registered client gets less, whoever uses it', async () => {
    const dynamic = ctx('list', principal({ groups: ['hr'], clientId: 'dcr-3f9a' }));
    const out = (await stage.run(dynamic, async () => ({ content: [], structuredContent: { rows: rowsOf(1) } }))) as {
      structuredContent: { rows: { salary: unknown }[] };
    };
    expect(out.structuredContent.rows[0]!.salary).toBe('[WITHHELD:confidential]');
    const registered = ctx('list', principal({ groups: ['hr'], clientId: 'registered-app' }));
    const ok = (await stage.run(registered, async () => ({ content: [], structuredContent: { rows: rowsOf(1) } }))) as {
      structuredContent: { rows: { salary: unknown }[] };
    };
    expect(ok.structuredContent.rows[0]!.salary).toBe(1000);
  });

  it('refuses a tool above the clearance before it runs', async () => {
    const c = ctx('payroll', principal({ groups: ['hr'] }));
    let ran = false;
    const error = await stage
      .run(c, async () => {
        ran = true;
        return { content: [] };
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputRefusedError);
    expect((error as OutputRefusedError).reason).toBe('output.above_clearance');
    expect((error as Error).message).toBe('"db__payroll" returns secret data; your clearance (confidential) does not reach it.');
    expect(ran).toBe(false);
    expect(c.notes.sanitize).toMatchObject({ outcome: 'denied', reason: 'above_clearance', classification: 'secret', clearance: 'confidential' });
  });
});
