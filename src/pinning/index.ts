export { ToolPins, neutralDescription, neutralizeTool, scanTool } from './tool-pins.js';
export type { Admission, PinSettings, PinningMode, PoisonAction, PromptAdmission, QuarantineReason, ToolPinsOptions } from './tool-pins.js';
export { ToolQuarantinedError } from './errors.js';
export { pinnedDefinition, type PinnedDefinition } from './tool-definition.js';
export { effectiveAnnotations, trustedAnnotations, describeEffect } from './effective-annotations.js';
export { scanText, scanAll, schemaTexts, MAX_SCAN_CHARS, type ScanFinding, type ScanOptions } from './description-scan.js';
export { markUntrusted, type UntrustedOptions } from './untrusted-results.js';
export { announceApprovals, toolPinsFor, untrustedAware } from './from-config.js';
