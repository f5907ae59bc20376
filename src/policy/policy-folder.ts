import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PolicyLoadError, type PolicySetSource, type SourceFile } from './cedar/policy-set.js';

/** Upper bound on one policy or schema file: a policy folder is text written by people. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a policy folder: every `*.cedar` file (sorted by name, which fixes policy-set order)
 * and at most one `*.cedarschema`. Not recursive. Throws PolicyLoadError for a missing
 * folder, unreadable files, or two schemas.
 */
export function readPolicyFolder(dir: string): PolicySetSource {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new PolicyLoadError([{ file: dir, message: 'is not a directory' }]);
    names = readdirSync(dir).sort();
  } catch (error) {
    if (error instanceof PolicyLoadError) throw error;
    throw new PolicyLoadError([{ file: dir, message: `cannot read the policy folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }]);
  }
  const read = (name: string): SourceFile => {
    const file = path.join(dir, name);
    try {
      const size = statSync(file).size;
      if (size > MAX_FILE_BYTES) throw new PolicyLoadError([{ file: name, message: `is ${size} bytes; the limit is ${MAX_FILE_BYTES}` }]);
      return { name, text: readFileSync(file, 'utf8') };
    } catch (error) {
      if (error instanceof PolicyLoadError) throw error;
      throw new PolicyLoadError([{ file: name, message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }]);
    }
  };
  const isFile = (name: string) => {
    try {
      return statSync(path.join(dir, name)).isFile();
    } catch {
      return false;
    }
  };
  const policyNames = names.filter((n) => n.endsWith('.cedar') && !n.startsWith('.') && isFile(n));
  const schemaNames = names.filter((n) => n.endsWith('.cedarschema') && !n.startsWith('.') && isFile(n));
  if (schemaNames.length > 1)
    throw new PolicyLoadError([{ file: dir, message: `has ${schemaNames.length} schema files (${schemaNames.join(', ')}); keep one` }]);
  return { files: policyNames.map(read), schema: schemaNames[0] ? read(schemaNames[0]) : undefined };
}
