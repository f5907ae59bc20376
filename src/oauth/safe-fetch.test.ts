import { describe, expect, it } from 'vitest';
import { isPrivateAddress, safeFetch } from './safe-fetch.js';

describe('SSRF-safe fetch', () => {
  it('classifies private, loopback, link-local and mapped addresses', () => {
    for (const ip of ['127.0.0.1', '10.2.3.4', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '224.0.0.1']) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '172.32.0.1']) expect(isPrivateAddress(ip), ip).toBe(false);
  });

  it('refuses loopback by literal address and by name, before connecting', async () => {
    const fetch = safeFetch({ allowPrivate: false });
    await expect(fetch('https://127.0.0.1:8443/client.json')).rejects.toThrow(/private or reserved/);
    await expect(fetch('https://[::1]:8443/client.json')).rejects.toThrow(/private or reserved/);
    const byName = await fetch('https://localhost:8443/client.json').then(() => undefined, (e: Error) => e);
    expect(String((byName as Error & { cause?: Error }).cause ?? byName)).toMatch(/private or reserved/);
  });
});
