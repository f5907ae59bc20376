import type { SettingsStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';

export class PostgresSettingsStore implements SettingsStore {
  constructor(private readonly db: PostgresDatabase) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.db.row<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }
}
