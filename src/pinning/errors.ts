import { RefusedError, RpcCode } from '../errors/index.js';
import type { QuarantineReason } from './tool-pins.js';

const WHY: Record<QuarantineReason, string> = {
  changed: 'its definition changed since it was approved',
  new: 'it appeared after the server was first pinned',
  poisoned: 'its description reads like instructions to the model',
};

/**
 * A call to a quarantined tool. The agent learns that the tool is held and why, never the
 * new definition; an operator reviews it with `gatehouse tools diff` and `tools approve`.
 */
export class ToolQuarantinedError extends RefusedError {
  constructor(exposed: string, qualified: string, why: QuarantineReason) {
    super(
      'tool.quarantined',
      'tool_quarantined',
      `The tool "${exposed}" is quarantined: ${WHY[why]}. An operator must review and approve it (gatehouse tools diff ${qualified}).`,
      403,
      RpcCode.Denied,
      { data: { quarantine: why } },
    );
  }
}
