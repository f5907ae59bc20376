import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { check, DemoError, type DemoContext, type DemoStep } from './context.ts';
import { ITEMS_CLOUD_CLIENT_ID, ITEMS_CLOUD_SCOPES, ItemsCloud } from './items-cloud.ts';

/** The items tools eng's policy allows (demo/policies/60-items.cedar). */
export const ITEMS_TOOLS_ALLOWED = ['items__listMyItems'] as const;

let running: ItemsCloud | undefined;

/** The Items Cloud provider started by the set-up step. */
export function itemsCloud(): ItemsCloud {
  if (!running) throw new DemoError('Items Cloud was not started');
  return running;
}

function q(value: string): string {
  return JSON.stringify(value);
}

/** `servers.items`: a hand-declared HTTP tool that acts with the calling user's own Items Cloud token. */
function itemsServerYaml(cloud: ItemsCloud): string {
  return `  # A downstream SaaS where each user has their own account (demo/lib/items-cloud.ts): the
  # tool acts with the calling user's token, which they connected on /connections.
  items:
    http:
      baseUrl: ${q(cloud.apiUrl)}
      tools:
        listMyItems: { method: GET, path: /items, description: "Lists the items in your Items Cloud account" }
      auth:
        type: userOAuth
        issuer: ${q(cloud.issuer)}
        displayName: Items Cloud
        clientId: ${ITEMS_CLOUD_CLIENT_ID}
        clientSecret: vault:items-cloud-client-secret
        scopes: [${ITEMS_CLOUD_SCOPES.join(', ')}]
        # The demo's provider speaks plain http on loopback (a warning at start).
        dangerouslyAllowHttp: true
    egress: { allowAddresses: [127.0.0.1/32] }
`;
}

/**
 * Set-up: starts Items Cloud (Gatehouse registered as its client, redirect URI
 * <publicUrl>/connections/callback), puts the client secret into the vault (stdin) and adds
 * `servers.items` to gatehouse.yaml before the gateway starts.
 */
export const startItemsCloud: DemoStep = {
  title: 'Start Items Cloud',
  async run(ctx: DemoContext) {
    const { ui, paths } = ctx;
    const clientSecret = randomBytes(24).toString('base64url');
    running = await ItemsCloud.start({ redirectUri: `${ctx.publicUrl}/connections/callback`, clientSecret });
    ui.phase(`Starting Items Cloud, a downstream OAuth provider with an API, at ${running.issuer} (demo/lib/items-cloud.ts)`);
    await ctx.show(['vault', 'put', 'items-cloud-client-secret', '--data-dir', paths.dataDir], {
      stdin: `${clientSecret}\n`,
      stdinNote: "Gatehouse's client secret at Items Cloud, on stdin",
      expectExit: 0,
    });
    const config = readFileSync(paths.configPath, 'utf8');
    check(/^servers:\n/m.test(config), 'gatehouse.yaml has no servers: block');
    writeFileSync(paths.configPath, config.replace(/^servers:\n/m, `servers:\n${itemsServerYaml(running)}`));
    ui.ok('gatehouse.yaml: servers.items.http (auth userOAuth at Items Cloud, client secret vault:items-cloud-client-secret)');
  },
};
