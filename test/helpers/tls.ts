import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import selfsigned from 'selfsigned';

/** A self-signed certificate for 127.0.0.1 (pure JavaScript: no openssl binary needed). */
export async function selfSignedCert(): Promise<{ certFile: string; cert: string; key: string }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  writeFileSync(certFile, pems.cert);
  return { certFile, cert: pems.cert, key: pems.private };
}

/** An HTTPS server on an ephemeral loopback port serving JSON documents by path; counts requests. */
export async function documentServer(
  tls: { cert: string; key: string },
  documents: Map<string, unknown>,
): Promise<{ origin: string; hits: string[]; server: Server; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    hits.push(req.url ?? '');
    const doc = documents.get(req.url ?? '');
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(typeof doc === 'string' ? doc : JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `https://127.0.0.1:${port}`, hits, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
