/** The parts of a resolved operation the rules read (the pipeline's `OutputTarget` has them). */
export interface OutputTarget {
  server: string;
  name: string;
  kind: string;
}

import type { Principal } from '../tokens/index.js';
import { maxClassification, type Classification } from './classification.js';
import { clearanceOf } from './clearance.js';
import type { ClearanceConfig, OutputLimits } from './config-schema.js';
import type { ShapeRules } from './shape-result.js';

/** The parts of a server's config the output rules read. */
export interface ServerOutputConfig {
  classification?: Classification | undefined;
  fields?: Readonly<Record<string, Classification>> | undefined;
  resources?: Readonly<Record<string, { classification?: Classification | undefined }>> | undefined;
  limits?: OutputLimits | undefined;
  tools?: Readonly<
    Record<
      string,
      {
        classification?: Classification | undefined;
        fields?: Readonly<Record<string, Classification>> | undefined;
        limits?: OutputLimits | undefined;
        aggregateOnly?: boolean | undefined;
      }
    >
  >;
}

/** Classification, clearance and shaping rules for the `sanitize` stage. */
export interface OutputRules {
  classify(op: OutputTarget): Classification;
  clearance(principal: Principal): Classification;
  shape(op: OutputTarget): ShapeRules;
}

/**
 * Rules from config. Classification comes from config only: a server's, raised (never
 * lowered) by its tool's or the longest matching resource prefix's. Upstream annotations
 * play no part.
 */
export function outputRules(
  servers: Readonly<Record<string, ServerOutputConfig>>,
  sanitize: { defaultClassification: Classification; clearance: ClearanceConfig },
  registeredClients: ReadonlySet<string>,
): OutputRules {
  const classify = (op: OutputTarget): Classification => {
    const server = Object.hasOwn(servers, op.server) ? servers[op.server] : undefined;
    let level = server?.classification ?? sanitize.defaultClassification;
    if (op.kind === 'tool' || op.kind === 'prompt') {
      const tool = server?.tools && Object.hasOwn(server.tools, op.name) ? server.tools[op.name] : undefined;
      if (tool?.classification) level = server?.classification ? maxClassification(level, tool.classification) : tool.classification;
    } else if (op.kind === 'resource' && server?.resources) {
      let best = -1;
      for (const [prefix, rule] of Object.entries(server.resources)) {
        if (rule.classification && op.name.startsWith(prefix) && prefix.length > best) {
          best = prefix.length;
          level = server.classification ? maxClassification(server.classification, rule.classification) : rule.classification;
        }
      }
    }
    return level;
  };
  return {
    classify,
    clearance: (principal) => clearanceOf(principal, sanitize.clearance, registeredClients),
    shape(op) {
      const server = Object.hasOwn(servers, op.server) ? servers[op.server] : undefined;
      if (!server) return {};
      const tool = op.kind === 'tool' && server.tools && Object.hasOwn(server.tools, op.name) ? server.tools[op.name] : undefined;
      const fields = server.fields || tool?.fields ? { ...server.fields, ...tool?.fields } : undefined;
      const limits = tool?.limits ?? server.limits;
      return { fields, limits, aggregateOnly: tool?.aggregateOnly };
    },
  };
}
