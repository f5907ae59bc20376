/**
 * The one place that loads Cedar (`@cedar-policy/cedar-wasm`, Node build). Everything else
 * imports from here, so the engine binding can be swapped or instrumented in one spot.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

export const cedarWasm = cedar;
export type {
  AuthorizationAnswer,
  CedarValueJson,
  DetailedError,
  EntityJson,
  EntityUidJson,
  Expr,
  PartialAuthorizationAnswer,
  PolicyJson,
  PrincipalConstraint,
  ActionConstraint,
  ResourceConstraint,
  SchemaJson,
  Type as CedarSchemaType,
} from '@cedar-policy/cedar-wasm/nodejs';
