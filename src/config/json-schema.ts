import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/** JSON Schema (draft 2020-12) for gatehouse.yaml, generated from the zod schema: the input side, what users write. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://gatehouse.dev/schema/gatehouse.schema.json',
    title: 'Gatehouse configuration (gatehouse.yaml)',
  };
}
