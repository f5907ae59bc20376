import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The built forwarder (run from source, as the test suite does, the built copy in dist/). */
export function sandboxForwarderPath(): string {
  const sibling = path.join(here, 'sandbox-forwarder.js');
  if (existsSync(sibling)) return sibling;
  return path.resolve(here, '../../dist/egress/sandbox-forwarder.js');
}
