import { compactVerify, importJWK, type JWK } from 'jose';
import type { AuditStore, SigningKeyStore } from '../storage/index.js';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, linkRecord } from './chain.js';

export type AuditVerification =
  | { ok: true; records: number; checkpoints: number; headSeq: number; headHash: string }
  | { ok: false; records: number; brokenSeq: number; reason: string };

const PAGE = 5000;

/**
 * Recomputes the whole chain from the database. Detects an edited row (hash mismatch), a
 * deleted row (seq gap or prev_hash mismatch), reordered rows (prev_hash mismatch), and a
 * truncated tail (a signed checkpoint names a record that no longer exists or differs).
 */
/**
 * A signed head kept outside the database (`gatehouse audit anchor`). Someone who can write the
 * database can also rewrite the chain and re-sign checkpoints with a key they put there; an
 * anchor held elsewhere pins both the history up to `seq` and the signing key.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  kid: string;
}

export async function verifyAuditLog(store: AuditStore, keys: SigningKeyStore, anchors: readonly AuditAnchor[] = []): Promise<AuditVerification> {
  const hashes = new Map<number, string>();
  const checkpoints = await store.checkpoints();
  const wanted = new Set([...checkpoints.map((c) => c.seq), ...anchors.map((a) => a.seq)]);
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (let from = 1; ; ) {
    const page = await store.scan(from, PAGE);
    for (const record of page) {
      if (record.seq !== expectedSeq) {
        return { ok: false, records: count, brokenSeq: expectedSeq, reason: `record #${expectedSeq} is missing (next record is #${record.seq})` };
      }
      if (record.prevHash !== prevHash) {
        return {
          ok: false,
          records: count,
          brokenSeq: record.seq,
          reason: `record #${record.seq} does not follow record #${record.seq - 1} (prev_hash mismatch: deleted, inserted or reordered)`,
        };
      }
      const recomputed = linkRecord(prevHash, record.seq, record);
      if (recomputed.hash !== record.hash) {
        return { ok: false, records: count, brokenSeq: record.seq, reason: `record #${record.seq} was modified (hash mismatch)` };
      }
      if (!isCanonicalBody(record.body)) {
        return { ok: false, records: count, brokenSeq: record.seq, reason: `record #${record.seq} body is not canonical JSON` };
      }
      if (wanted.has(record.seq)) hashes.set(record.seq, record.hash);
      prevHash = record.hash;
      expectedSeq++;
      count++;
    }
    if (page.length < PAGE) break;
    from = expectedSeq;
  }
  const headSeq = expectedSeq - 1;

  const publicKeys = new Map<string, JWK>();
  for (const record of await keys.list('audit')) publicKeys.set(record.kid, JSON.parse(record.publicJwk) as JWK);
  const pinned = new Set(anchors.map((a) => a.kid));
  for (const anchor of anchors) {
    if (anchor.seq > headSeq)
      return { ok: false, records: count, brokenSeq: headSeq + 1, reason: `records after #${headSeq} were deleted (the anchor covers #${anchor.seq})` };
    if (hashes.get(anchor.seq) !== anchor.hash)
      return {
        ok: false,
        records: count,
        brokenSeq: anchor.seq,
        reason: `record #${anchor.seq} differs from the anchor kept outside the database (history rewritten)`,
      };
  }
  for (const checkpoint of checkpoints) {
    if (pinned.size > 0 && !pinned.has(checkpoint.kid)) {
      return {
        ok: false,
        records: count,
        brokenSeq: checkpoint.seq,
        reason: `checkpoint at #${checkpoint.seq} is signed by key ${checkpoint.kid}, not the anchored audit key`,
      };
    }
    const jwk = publicKeys.get(checkpoint.kid);
    if (!jwk)
      return { ok: false, records: count, brokenSeq: checkpoint.seq, reason: `checkpoint at #${checkpoint.seq} is signed by an unknown key ${checkpoint.kid}` };
    let payload: { seq?: unknown; hash?: unknown };
    try {
      const verified = await compactVerify(checkpoint.signature, await importJWK(jwk, 'EdDSA'), { algorithms: ['EdDSA'] });
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as typeof payload;
    } catch {
      return { ok: false, records: count, brokenSeq: checkpoint.seq, reason: `checkpoint at #${checkpoint.seq} has an invalid signature` };
    }
    if (payload.seq !== checkpoint.seq || payload.hash !== checkpoint.hash) {
      return { ok: false, records: count, brokenSeq: checkpoint.seq, reason: `checkpoint at #${checkpoint.seq} does not match its signed payload` };
    }
    if (checkpoint.seq > headSeq) {
      return {
        ok: false,
        records: count,
        brokenSeq: headSeq + 1,
        reason: `records after #${headSeq} were deleted (a signed checkpoint covers #${checkpoint.seq})`,
      };
    }
    if (hashes.get(checkpoint.seq) !== checkpoint.hash) {
      return { ok: false, records: count, brokenSeq: checkpoint.seq, reason: `record #${checkpoint.seq} differs from its signed checkpoint` };
    }
  }
  return { ok: true, records: count, checkpoints: checkpoints.length, headSeq, headHash: prevHash };
}

function isCanonicalBody(body: string): boolean {
  try {
    return canonicalJson(JSON.parse(body)) === body;
  } catch {
    return false;
  }
}
