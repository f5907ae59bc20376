import type { SettingsStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';

export class SqliteSettingsStore implements SettingsStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async get(key: string): Promise<string | undefined> {
    const row = this.sql.statement('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    this.sql.statement('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
