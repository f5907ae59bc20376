export { connectionsPage, type ConnectionsPageDeps } from './connections-page.js';
export { approvalPages, type ApprovalPagesDeps } from './approvals-pages.js';
export { ConsoleAccessError, noConsoleAuth, type ConsoleAuth, type ConsoleUser } from './console-auth.js';
export { CsrfTokens } from './csrf.js';
export { toolPinPages, type ToolPinPagesDeps } from './tool-pins-pages.js';
