import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The example invoices API (examples/http/invoices-api.mjs) on a free loopback port, accepting `key`. */
export async function startInvoicesApi(key: string): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'examples/http/invoices-api.mjs'), '0'], {
    env: { PATH: process.env.PATH ?? '', INVOICES_API_KEY: key },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`invoices API exited (${code})`)));
  });
  return { port, stop: () => child.kill() };
}
