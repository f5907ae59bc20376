import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A self-signed certificate for 127.0.0.1, made with openssl (fails loudly if it cannot). */
export function selfSignedCert(): { certFile: string; cert: string; key: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  return { certFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** An HTTPS server on an ephemeral loopback port serving JSON documents by path; counts requests. */
export async function documentServer(tls: { cert: string; key: string }, documents: Map<string, unknown>): Promise<{ origin: string; hits: string[]; server: Server; close(): Promise<void> }> {
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
