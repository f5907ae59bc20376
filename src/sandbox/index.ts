export { detectBubblewrap, findBubblewrap, type BubblewrapProbe } from './detect-bubblewrap.js';
export { decideSandbox, type SandboxDecision } from './decide-sandbox.js';
export { protectedPaths, type ProtectedPaths, type GatewayPaths } from './protected-paths.js';
export { programPaths, findExecutable, type ProgramPaths } from './program-paths.js';
export { bwrapArgs, NAMESPACE_FLAGS, type SandboxLayout } from './bwrap-args.js';
export { wrapCommand, type SpawnTarget, type WrappedTarget } from './wrap-command.js';
export { planSandboxes, sandboxStatus, type UpstreamSandbox } from './plan-servers.js';
export { gatewayProtectedPaths } from './gateway-paths.js';
export { wrapConnector, type ConnectorSpawn } from './wrap-connector.js';
