/**
 * `mcp-gatehouse/connector`: write a connector whose tools run in their own sandboxed process
 * behind the gateway's whole pipeline (authentication, policy, approvals, rate limits,
 * validation, audit, sanitization).
 */
export {
  defineConnector,
  defineTool,
  type ConnectorCredential,
  type ConnectorDefinition,
  type ConnectorFetchInit,
  type ConnectorLog,
  type ToolClassification,
  type ToolContext,
  type ToolDefinition,
  type ToolEffect,
  type ToolResult,
} from './define.js';
export { callTool, type TestCallOptions } from './testing.js';
