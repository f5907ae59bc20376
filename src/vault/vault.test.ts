import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secrets } from '../log/index.js';
import { SqliteStorage } from '../storage/index.js';
import { open, seal } from './envelope.js';
import { VaultError } from './errors.js';
import { LocalKeyProvider } from './key-provider.js';
import { loadMasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE_ENV } from './master-key.js';
import { Vault } from './vault.js';

const CANARY = 'canary-vault-unit-7f3a9c1e5b';

function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

async function caught(fn: () => unknown): Promise<VaultError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return error as VaultError;
  }
  throw new Error('expected a VaultError');
}

describe('envelope encryption', () => {
  const provider = new LocalKeyProvider(randomBytes(32), 'test key');

  it('round-trips and uses a fresh data key and nonce every time', async () => {
    const a = await seal(provider, 'stripe', Buffer.from(CANARY));
    const b = await seal(provider, 'stripe', Buffer.from(CANARY));
    expect((await open(provider, 'stripe', a)).toString()).toBe(CANARY);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
    expect(Buffer.from(a.wrappedKey).equals(Buffer.from(b.wrappedKey))).toBe(false);
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(Buffer.from(a.ciphertext).includes(Buffer.from(CANARY))).toBe(false);
    expect(a.kekId).toBe(provider.id);
  });

  it('fails cleanly with the wrong key', async () => {
    const sealed = await seal(provider, 'stripe', Buffer.from(CANARY));
    const other = new LocalKeyProvider(randomBytes(32), 'other key');
    const mismatch = await caught(() => open(other, 'stripe', sealed));
    expect(mismatch.code).toBe('vault.key_mismatch');
    expect(mismatch.message).toBe(`vault secret "stripe" was sealed with master key ${provider.id}, but the key from other key is ${other.id}`);
    // Even with a forged key id the wrong key cannot unwrap the data key.
    const forged = await caught(() => open(other, 'stripe', { ...sealed, kekId: other.id }));
    expect(forged.code).toBe('vault.decrypt_failed');
    expect(forged.message).toBe('the data key could not be unwrapped: wrong master key, or the stored entry was altered');
  });

  it('detects tampering with the ciphertext, tag, nonce or wrapped key', async () => {
    const sealed = await seal(provider, 'stripe', Buffer.from(CANARY));
    const flip = (bytes: Uint8Array, at = 0) => {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at] as number) ^ 1;
      return copy;
    };
    for (const tampered of [
      { ...sealed, ciphertext: flip(sealed.ciphertext, 3) },
      { ...sealed, tag: flip(sealed.tag) },
      { ...sealed, iv: flip(sealed.iv) },
    ]) {
      const error = await caught(() => open(provider, 'stripe', tampered));
      expect(error.code).toBe('vault.decrypt_failed');
      expect(error.message).toBe('vault secret "stripe" could not be decrypted: the stored entry was altered or belongs to another name');
    }
    expect((await caught(() => open(provider, 'stripe', { ...sealed, wrappedKey: flip(sealed.wrappedKey, 20) }))).code).toBe('vault.decrypt_failed');
    expect((await caught(() => open(provider, 'stripe', { ...sealed, wrappedKey: Buffer.alloc(10) }))).message).toBe('wrapped data key is truncated');
  });

  it('binds the name as associated data: an entry moved to another name does not open', async () => {
    const stripe = await seal(provider, 'stripe', Buffer.from(CANARY));
    const github = await seal(provider, 'github', Buffer.from('gh-value'));
    expect((await caught(() => open(provider, 'github', stripe))).code).toBe('vault.decrypt_failed');
    // Swapping only the wrapped data keys between entries fails too.
    expect((await caught(() => open(provider, 'stripe', { ...stripe, wrappedKey: github.wrappedKey }))).code).toBe('vault.decrypt_failed');
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new LocalKeyProvider(randomBytes(16), 'short')).toThrow('the master key from short must be exactly 32 bytes, got 16');
  });
});

describe('master key', () => {
  let home: string;
  let dataDir: string;
  beforeEach(() => {
    home = tmp('gh-home-');
    dataDir = tmp('gh-data-');
  });

  it('reads GATEHOUSE_MASTER_KEY (base64 of 32 bytes) first', () => {
    const key = randomBytes(32);
    const loaded = loadMasterKey({ env: { HOME: home, [MASTER_KEY_ENV]: key.toString('base64') }, dataDir });
    expect(loaded.location).toEqual({ kind: 'env', path: undefined, source: 'environment variable GATEHOUSE_MASTER_KEY' });
    expect(loaded.provider.exportKey().equals(key)).toBe(true);
    expect(() => loadMasterKey({ env: { [MASTER_KEY_ENV]: randomBytes(31).toString('base64') }, dataDir })).toThrow(
      'the master key from environment variable GATEHOUSE_MASTER_KEY decodes to 31 bytes; it must be exactly 32 (generate one with: openssl rand -base64 32)',
    );
    expect(() => loadMasterKey({ env: { [MASTER_KEY_ENV]: 'not base64!' }, dataDir })).toThrow(/is not base64/);
  });

  it('refuses to create a key unless asked, and says what to do', async () => {
    const error = await caught(() => loadMasterKey({ env: { HOME: home }, dataDir }));
    expect(error.code).toBe('vault.key_missing');
    expect(error.message).toContain(`${path.join(home, '.config', 'gatehouse', 'master.key')} does not exist`);
    expect(error.message).toContain('Set GATEHOUSE_MASTER_KEY');
  });

  it('creates the default key file 0600 in a 0700 folder outside the data dir, once', () => {
    const created = loadMasterKey({ env: { HOME: home }, dataDir }, { create: true });
    const file = path.join(home, '.config', 'gatehouse', 'master.key');
    expect(created.created).toBe(true);
    expect(created.location).toEqual({ kind: 'file', path: file, source: `key file ${file}` });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const again = loadMasterKey({ env: { HOME: home }, dataDir }, { create: true });
    expect(again.created).toBe(false);
    expect(again.provider.id).toBe(created.provider.id);
  });

  it('honours XDG_CONFIG_HOME and GATEHOUSE_MASTER_KEY_FILE', () => {
    const xdg = loadMasterKey({ env: { HOME: home, XDG_CONFIG_HOME: path.join(home, 'xdg') }, dataDir }, { create: true });
    expect(xdg.location.path).toBe(path.join(home, 'xdg', 'gatehouse', 'master.key'));
    const file = path.join(home, 'elsewhere.key');
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    expect(loadMasterKey({ env: { HOME: home, [MASTER_KEY_FILE_ENV]: file }, dataDir }).location.path).toBe(file);
  });

  it('refuses a key file inside the data dir or readable by others', async () => {
    const inside = path.join(dataDir, 'master.key');
    writeFileSync(inside, randomBytes(32).toString('base64'), { mode: 0o600 });
    const error = await caught(() => loadMasterKey({ env: { HOME: home }, dataDir, keyFile: inside }));
    expect(error.code).toBe('vault.key_in_data_dir');
    const loose = path.join(home, 'loose.key');
    writeFileSync(loose, randomBytes(32).toString('base64'));
    chmodSync(loose, 0o644);
    const perms = await caught(() => loadMasterKey({ env: { HOME: home }, dataDir, keyFile: loose }));
    expect(perms.code).toBe('vault.key_permissions');
    expect(perms.message).toBe(`the master key file ${loose} is accessible to other users (mode 644); make it readable by its owner only: chmod 600 ${loose}`);
  });
});

describe('Vault', () => {
  let storage: SqliteStorage;
  let provider: LocalKeyProvider;
  const uses: string[] = [];
  beforeEach(() => {
    storage = SqliteStorage.open(tmp('gh-vault-'));
    provider = new LocalKeyProvider(randomBytes(32), 'test key');
    uses.length = 0;
  });
  afterEach(async () => {
    await storage.close();
  });
  const vault = (keys = () => provider, now = Date.now) =>
    new Vault({ store: storage.vault, keys, now, onUse: (name, consumer, origin) => uses.push(`${name}:${consumer}:${origin}`) });

  it('stores only ciphertext and resolves the value for a consumer, recording the use', async () => {
    const v = vault();
    expect(await v.put('stripe', `${CANARY}-a`)).toEqual({ version: 1, created: true });
    const row = storage.sql.db.prepare('SELECT * FROM vault_secrets').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(CANARY);
    expect(Buffer.from(row.ciphertext as Uint8Array).includes(Buffer.from(CANARY))).toBe(false);
    expect(await v.resolve('stripe', 'servers.billing.env.STRIPE_KEY')).toBe(`${CANARY}-a`);
    expect(secrets.scrub(`leak ${CANARY}-a`)).toBe('leak [REDACTED]');
    expect(uses).toEqual(['stripe:servers.billing.env.STRIPE_KEY:store']);
    const [meta] = await v.list();
    expect(meta).toMatchObject({ name: 'stripe', version: 1, usedBy: ['servers.billing.env.STRIPE_KEY'], ageDays: 0, warning: undefined });
    expect(meta?.lastUsedAt).toBeTypeOf('number');
    expect(JSON.stringify(await v.list())).not.toContain(CANARY);
  });

  it('rotates, warns past 90 days, deletes', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const v = vault(
      () => provider,
      () => now,
    );
    await v.put('gh', 'first-value');
    now += 91 * 86_400_000;
    const [stale] = await v.list();
    expect(stale?.ageDays).toBe(91);
    expect(stale?.warning).toBe('value is 91 days old; rotate it (gatehouse vault rotate gh): the limit is 90 days');
    expect(await v.rotate('gh', 'second-value')).toEqual({ version: 2 });
    const [fresh] = await v.list();
    expect(fresh).toMatchObject({ version: 2, ageDays: 0, warning: undefined, createdAt: Date.parse('2026-01-01T00:00:00Z') });
    expect(await v.resolve('gh', 'x')).toBe('second-value');
    expect((await caught(() => v.rotate('missing', 'x'))).message).toBe('vault secret "missing" does not exist (create it with: gatehouse vault put missing)');
    expect(await v.delete('gh')).toBe(true);
    expect(await v.delete('gh')).toBe(false);
    expect((await caught(() => v.resolve('gh', 'x'))).code).toBe('vault.not_found');
  });

  it('refuses bad names, empty and oversized values, and a key that does not match the entries', async () => {
    const v = vault();
    expect((await caught(() => v.put('../etc', 'x'))).code).toBe('vault.invalid_name');
    expect((await caught(() => v.put('ok', ''))).message).toBe('the value is empty');
    expect((await caught(() => v.put('ok', 'x'.repeat(70_000)))).code).toBe('vault.invalid_value');
    await v.put('ok', 'value');
    const other = new LocalKeyProvider(randomBytes(32), 'another key');
    const wrong = vault(() => other);
    const error = await caught(() => wrong.put('new', 'value'));
    expect(error.code).toBe('vault.key_mismatch');
    expect(error.message).toContain('without it those secrets cannot be recovered');
    expect((await caught(() => wrong.resolve('ok', 'x'))).code).toBe('vault.key_mismatch');
    expect((await storage.vault.list()).map((e) => e.name)).toEqual(['ok']);
  });

  it('resolves memory-only secrets without a key and without touching the store', async () => {
    const v = new Vault({
      store: storage.vault,
      keys: () => {
        throw new VaultError('vault.key_missing', 'no key');
      },
      memory: new Map([['mem', `${CANARY}-mem`]]),
    });
    expect(await v.resolve('mem', 'servers.x.env.A')).toBe(`${CANARY}-mem`);
    expect(secrets.scrub(`${CANARY}-mem`)).toBe('[REDACTED]');
    expect(await v.has('mem')).toBe(true);
    expect(await storage.vault.list()).toEqual([]);
    expect((await caught(() => v.resolve('other', 'x'))).code).toBe('vault.not_found');
  });
});
