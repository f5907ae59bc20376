import { isIP } from 'node:net';

/**
 * True for a database host on this machine: `localhost`, a Unix socket directory, 127.x.x.x or
 * ::1. Such connections default to no TLS; every other host defaults to verified TLS.
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host.startsWith('/') || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}
