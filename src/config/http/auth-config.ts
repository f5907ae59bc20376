import { z } from 'zod';
import { ApiKeyAuthSchema, BasicAuthSchema, ClientCredentialsAuthSchema, TokenExchangeAuthSchema, UserOAuthAuthSchema } from './auth-schemas.js';

/**
 * `servers.<name>.http.auth`: how the connector gets credentials for the downstream API.
 * Each `type` has its provider (see auth-providers.ts); the variants are a discriminated
 * union on `type`, so every provider adds its own strict object here.
 */
export const HttpAuthNoneSchema = z.strictObject({ type: z.literal('none') });

export const HttpAuthConfigSchema = z.discriminatedUnion('type', [
  HttpAuthNoneSchema,
  ApiKeyAuthSchema,
  BasicAuthSchema,
  ClientCredentialsAuthSchema,
  UserOAuthAuthSchema,
  TokenExchangeAuthSchema,
]);

export type HttpAuthConfig = z.infer<typeof HttpAuthConfigSchema>;
