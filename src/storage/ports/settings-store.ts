/** Small operational facts shared between the gateway and CLI processes (e.g. the public URL). */
export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}
