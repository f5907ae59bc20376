import { registerHooks } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The name connectors import the SDK by. */
export const SDK_SPECIFIER = 'mcp-gatehouse/connector';

function isUnder(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Limits what a connector's module graph may load: Node's built-ins, the SDK (by its package
 * name), zod, and files below the allowed roots (the connector's own folder, the SDK's, zod's).
 * Anything else — the gateway's own modules above all — fails to resolve. This is the first of
 * two fences: the sandbox does not even contain those files.
 */
export function guardImports(options: { sdkEntry: string; roots: readonly string[] }): void {
  const sdkUrl = pathToFileURL(options.sdkEntry).href;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === SDK_SPECIFIER) return { url: sdkUrl, shortCircuit: true, format: 'module' };
      const resolved = nextResolve(specifier, context);
      if (resolved.url.startsWith('node:')) return resolved;
      if (resolved.url.startsWith('file:')) {
        const file = fileURLToPath(resolved.url);
        if (options.roots.some((root) => isUnder(file, root))) return resolved;
      }
      throw Object.assign(new Error(`import of "${specifier}" refused: a connector may import node: built-ins, zod, ${SDK_SPECIFIER} and its own files`), {
        code: 'ERR_CONNECTOR_IMPORT_REFUSED',
      });
    },
  });
}
