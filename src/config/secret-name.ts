/** A vault secret's name: what `vault:NAME` may reference (the vault and config validation share it). */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
