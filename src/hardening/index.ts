export { ADDON_PATH, NODUMP_PRELOAD_PATH, loadHardeningAddon, type AddonLoad, type HardeningAddon } from './addon.js';
export { childPreloadAvailable, hardenProcess, hardeningStatus, readCoreLimit, type HardeningStatus } from './process-hardening.js';
export { takeFromEnvironment, type EnvironmentScrub } from './master-key-env.js';
export { describeHardening } from './describe.js';
export { sandboxPreloadArgs, withChildHardening } from './child-env.js';
