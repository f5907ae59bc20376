import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { AuditBody, AuditKindName, AuditLog } from '../../src/audit/index.js';
import type { CallContext, Next, Operation } from '../../src/pipeline/index.js';
import type { Principal } from '../../src/tokens/index.js';

/** A principal with the base scope, for stage tests. */
export function fakePrincipal(overrides: Partial<Principal> = {}): Principal {
  return {
    sub: 'alice',
    groups: ['eng'],
    clientId: 'client-1',
    scopes: ['mcp'],
    jti: 'jti-1',
    issuedAt: 0,
    expiresAt: 0,
    act: [],
    authorizationDetails: undefined,
    authTime: undefined,
    amr: [],
    grantId: undefined,
    dpopJkt: undefined,
    claims: {},
    ...overrides,
  };
}

/** A resolved `tools/call` of `echo__add` (override anything), as the router would hand it to the pipeline. */
export function fakeCall(overrides: { op?: Partial<Operation>; principal?: Partial<Principal>; params?: Record<string, unknown> } = {}): CallContext {
  const op: Operation = {
    method: 'tools/call',
    action: 'call',
    kind: 'tool',
    server: 'echo',
    name: 'add',
    id: 'echo__add',
    args: { a: 1, b: 2 },
    ...overrides.op,
  };
  return {
    requestId: 'req-1',
    rpcId: 1,
    principal: fakePrincipal(overrides.principal),
    origin: { sessionId: 'session-1', ip: '192.0.2.7', clientName: 'test-client', protocolVersion: '2025-11-25' },
    op,
    params: overrides.params ?? { name: op.name, arguments: op.args },
    signal: new AbortController().signal,
    startedAt: Date.now(),
    progress: undefined,
    decision: undefined,
    intentSeq: undefined,
    notes: {},
    control: {},
  };
}

/** The inner end of a stage under test: records whether it ran, answers `result` or throws `error`. */
export function fakeNext(answer: { result?: Result; error?: Error } = {}): Next & { calls: number } {
  const next = Object.assign(
    async (): Promise<Result> => {
      next.calls++;
      if (answer.error) throw answer.error;
      return answer.result ?? { content: [{ type: 'text', text: 'ok' }] };
    },
    { calls: 0 },
  );
  return next;
}

export interface AppendedRecord {
  kind: AuditKindName;
  body: AuditBody;
  durable: boolean | undefined;
}

/** An audit log that keeps what is appended in memory, or fails every append with `failWith`. */
export function fakeAudit(options: { failWith?: Error } = {}): { audit: AuditLog; records: AppendedRecord[] } {
  const records: AppendedRecord[] = [];
  const audit = {
    async append(kind: AuditKindName, body: AuditBody, opts?: { durable?: boolean }) {
      if (options.failWith) throw options.failWith;
      records.push({ kind, body, durable: opts?.durable });
      return { seq: records.length };
    },
  };
  return { audit: audit as unknown as AuditLog, records };
}
