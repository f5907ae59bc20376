import { describe, expect, it } from 'vitest';
import { fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import { InvalidArgumentsError } from '../../errors/index.js';
import { InputSchemaValidator } from '../../policy/input-schema.js';
import type { Authorizer } from '../../policy/types.js';
import { REASON_ARGUMENT, REASON_META_KEY, validateStage } from './validate.js';

const allowAll: Authorizer = { decide: () => ({ effect: 'allow' }) };
const schema = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false };

describe('validate stage', () => {
  it('passes arguments that match the tool’s input schema', async () => {
    const next = fakeNext();
    await validateStage(new InputSchemaValidator(), () => allowAll).run(fakeCall({ op: { inputSchema: schema } }), next);
    expect(next.calls).toBe(1);
  });

  it('refuses arguments that do not, with -32602 and the schema’s words, and runs nothing after', async () => {
    const next = fakeNext();
    const call = fakeCall({ op: { inputSchema: schema, args: { a: 'one' } } });
    const error = await validateStage(new InputSchemaValidator(), () => allowAll)
      .run(call, next)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentsError);
    expect(error).toMatchObject({ code: 'mcp.invalid_arguments', rpcCode: -32602 });
    expect((error as Error).message).toContain('must have required property');
    expect(next.calls).toBe(0);
  });

  it('takes the stated reason out of the arguments (validated, hashed and forwarded without it) and notes it', async () => {
    const next = fakeNext();
    const call = fakeCall({ op: { inputSchema: schema, args: { a: 1, b: 2, [REASON_ARGUMENT]: '  ticket 42  ' } } });
    await validateStage(new InputSchemaValidator(), () => allowAll).run(call, next);
    expect(next.calls).toBe(1);
    expect(call.op.args).toEqual({ a: 1, b: 2 });
    expect(call.params.arguments).toEqual({ a: 1, b: 2 });
    expect(call.notes).toEqual({ agentReason: 'ticket 42' });
  });

  it('prefers the reason in _meta, caps a long one, and notes nothing for a blank one', async () => {
    const fromMeta = fakeCall({ params: { name: 'add', arguments: { a: 1, b: 2 }, _meta: { [REASON_META_KEY]: 'x'.repeat(600) } } });
    await validateStage(new InputSchemaValidator(), () => allowAll).run(fromMeta, fakeNext());
    expect(fromMeta.notes.agentReason).toBe(`${'x'.repeat(500)}…`);
    const blank = fakeCall({ params: { name: 'add', arguments: { a: 1, b: 2 }, _meta: { [REASON_META_KEY]: '   ' } } });
    await validateStage(new InputSchemaValidator(), () => allowAll).run(blank, fakeNext());
    expect(blank.notes).toEqual({});
  });

  it('refuses arguments the policies cannot read, before any decision', async () => {
    const picky: Authorizer = { decide: () => ({ effect: 'allow' }), argumentProblem: () => 'a must be a whole number' };
    const next = fakeNext();
    await expect(validateStage(new InputSchemaValidator(), () => picky).run(fakeCall(), next)).rejects.toMatchObject({ code: 'mcp.invalid_arguments' });
    expect(next.calls).toBe(0);
  });

  it('does not look at list requests', async () => {
    const next = fakeNext();
    const list = fakeCall({ op: { method: 'tools/list', action: 'list', kind: 'server', server: '*', args: undefined } });
    await validateStage(new InputSchemaValidator(), () => ({ decide: () => ({ effect: 'allow' }), argumentProblem: () => 'never' })).run(list, next);
    expect(next.calls).toBe(1);
  });
});
