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
    const payload = { rows: rowsOf(4) };
    const out = (await stage.run(c, async () => ({ content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload }))) as {
      structuredContent: unknown;
    };
    expect(out.structuredContent).toEqual({
      rows: {
        aggregateOnly: true,
        rowCount: 4,
        columns: {
          id: { nonNull: 4, distinct: 4, min: 0, max: 3 },
          dept: { nonNull: 4, distinct: 2 },
          salary: { nonNull: 4, distinct: 4, min: 1000, max: 1003 },
        },
      },
    });
    expect(c.notes.sanitize).toMatchObject({ aggregated: 4 });
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
