import type { VaultStore } from '../storage/index.js';
import { ROTATE_AFTER_DAYS, Vault } from './vault.js';

export interface RotationDue {
  name: string;
  ageDays: number;
}

/** Vault entries whose value is older than ROTATE_AFTER_DAYS, oldest first. Reads metadata only. */
export async function secretsDueForRotation(store: VaultStore, now: () => number = Date.now): Promise<RotationDue[]> {
  const vault = new Vault({ store, now, keys: () => Promise.reject(new Error('listing the vault never decrypts')) });
  return (await vault.list())
    .filter((e) => e.rotationDue)
    .map((e) => ({ name: e.name, ageDays: e.ageDays }))
    .sort((a, b) => b.ageDays - a.ageDays || a.name.localeCompare(b.name));
}

export function rotationWarning(due: RotationDue[]): string | undefined {
  if (due.length === 0) return undefined;
  const list = due.map((d) => `${d.name} (${d.ageDays} days)`).join(', ');
  return `${due.length} vault secret${due.length === 1 ? '' : 's'} older than ${ROTATE_AFTER_DAYS} days, rotate with gatehouse vault rotate NAME: ${list}`;
}
