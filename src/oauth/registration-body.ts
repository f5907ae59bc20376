import type { IncomingMessage } from 'node:http';
import { readBounded, replayRequest } from '../http/replay-request.js';
import { CLIENT_METADATA_LIMITS, clientMetadataProblem } from './client-metadata-limits.js';

/**
 * An RFC 7591 registration request, checked before oidc-provider sees it: the body is read up
 * to the document limit (Content-Length over it: not read at all), parsed once, and every
 * field, recognised or not, is held to its limit. The refusal is the description for
 * `invalid_client_metadata` (RFC 7591 §3.2.2); otherwise a request that replays the body.
 * A body that is not a JSON object goes on unchanged: oidc-provider answers it.
 */
export async function checkRegistrationBody(req: IncomingMessage): Promise<{ refusal: string; close: boolean } | { request: IncomingMessage }> {
  // Up to oidc-provider's own body limit (56 KB) an oversized body is read and dropped, so the
  // client gets its invalid_client_metadata; beyond that the connection is closed.
  let body: Awaited<ReturnType<typeof readBounded>>;
  try {
    body = await readBounded(req, CLIENT_METADATA_LIMITS.documentBytes, 64 * 1024);
  } catch {
    return { refusal: 'the request body could not be read', close: true };
  }
  if ('tooLarge' in body) return { refusal: `client metadata is larger than ${CLIENT_METADATA_LIMITS.documentBytes} bytes`, close: !body.drained };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const problem = clientMetadataProblem(parsed as Record<string, unknown>);
    if (problem) return { refusal: problem, close: false };
  }
  return { request: replayRequest(req, body.bytes) };
}
