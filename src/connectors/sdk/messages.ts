import { z } from 'zod';

/**
 * The messages of the gateway ↔ connector channel, checked on receipt by both sides. The
 * connector's side is untrusted: every field is bounded, and an unknown or malformed message
 * ends the channel (the process is restarted) rather than being guessed at.
 */

const Id = z.string().min(1).max(64);
const Text = (max: number) => z.string().max(max);
const ErrorBody = z.strictObject({ code: Text(128), message: Text(2048) });
const StringRecord = (maxKeys: number, maxValue: number) =>
  z.record(Text(256), Text(maxValue)).refine((r) => Object.keys(r).length <= maxKeys, `at most ${maxKeys} entries`);

// ---- gateway → connector ----

export const CallMessageSchema = z.strictObject({
  type: z.literal('call'),
  id: Id,
  tool: Text(64),
  args: z.record(z.string(), z.unknown()),
  actor: z.strictObject({ sub: Text(1024), groups: z.array(Text(256)).max(256) }),
  purpose: Text(2048),
  requestId: Text(128),
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

export const CancelMessageSchema = z.strictObject({ type: z.literal('cancel'), id: Id });

export const CredentialResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    type: z.literal('credential.result'),
    id: Id,
    ok: z.literal(true),
    credential: z.strictObject({ headers: StringRecord(32, 16_384), query: StringRecord(32, 16_384) }),
  }),
  z.strictObject({ type: z.literal('credential.result'), id: Id, ok: z.literal(false), error: ErrorBody }),
]);

export const FetchResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    type: z.literal('fetch.result'),
    id: Id,
    ok: z.literal(true),
    status: z.number().int().min(100).max(599),
    headers: z.array(z.tuple([Text(256), Text(16_384)])).max(256),
    /** base64 */
    body: z.string(),
  }),
  z.strictObject({ type: z.literal('fetch.result'), id: Id, ok: z.literal(false), error: ErrorBody }),
]);

export const ToConnectorSchema = z.union([CallMessageSchema, CancelMessageSchema, CredentialResultSchema, FetchResultSchema]);
export type ToConnector = z.infer<typeof ToConnectorSchema>;
export type CallMessage = z.infer<typeof CallMessageSchema>;

// ---- connector → gateway ----

export const ToolDeclarationSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/)
    .refine((n) => !n.includes('__')),
  description: Text(4096).optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  effect: z.enum(['read', 'write', 'destructive']),
  classification: z.enum(['public', 'internal', 'confidential', 'secret']).optional(),
});
export type ToolDeclaration = z.infer<typeof ToolDeclarationSchema>;

export const HelloMessageSchema = z.strictObject({
  type: z.literal('hello'),
  name: Text(64),
  tools: z.array(ToolDeclarationSchema).max(256),
});

export const FatalMessageSchema = z.strictObject({ type: z.literal('fatal'), message: Text(4096) });

export const ResultMessageSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    type: z.literal('result'),
    id: Id,
    ok: z.literal(true),
    result: z.looseObject({ content: z.array(z.unknown()).max(1024), isError: z.boolean().optional() }),
  }),
  z.strictObject({ type: z.literal('result'), id: Id, ok: z.literal(false), error: ErrorBody }),
]);

export const CredentialRequestSchema = z.strictObject({ type: z.literal('credential'), id: Id, call: Id, name: Text(64) });

export const FetchRequestSchema = z.strictObject({
  type: z.literal('fetch'),
  id: Id,
  call: Id,
  url: Text(8192),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  headers: StringRecord(64, 16_384),
  body: z.string().optional(),
});

export const LogMessageSchema = z.strictObject({
  type: z.literal('log'),
  call: Id.optional(),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: Text(4096),
  fields: z.record(Text(64), z.unknown()).optional(),
});

export const FromConnectorSchema = z.union([
  HelloMessageSchema,
  FatalMessageSchema,
  ResultMessageSchema,
  CredentialRequestSchema,
  FetchRequestSchema,
  LogMessageSchema,
]);
export type FromConnector = z.infer<typeof FromConnectorSchema>;
export type FetchRequest = z.infer<typeof FetchRequestSchema>;
export type CredentialRequest = z.infer<typeof CredentialRequestSchema>;
