// `mcp-gatehouse/connector` as a connector author gets it: a separate project with the package
// installed imports the SDK by name (exactly the documented names), type-checks a connector
// written against it, and is refused a deep import into the gateway. Needs the build.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, NODE, ROOT, tempDir } from '../helpers/e2e.ts';

afterAll(cleanup);

const run = (cwd: string, code: string) =>
  execFileSync(NODE, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('mcp-gatehouse/connector', () => {
  const project = tempDir('gh-sdk-pkg-');
  mkdirSync(path.join(project, 'node_modules'));
  symlinkSync(ROOT, path.join(project, 'node_modules/mcp-gatehouse'), 'dir');
  symlinkSync(path.join(ROOT, 'node_modules/zod'), path.join(project, 'node_modules/zod'), 'dir');
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-connector', type: 'module', private: true }));

  it('exports exactly defineConnector, defineTool and callTool', () => {
    const keys = JSON.parse(run(project, `import * as sdk from 'mcp-gatehouse/connector'; console.log(JSON.stringify(Object.keys(sdk).sort()));`));
    expect(keys).toEqual(['callTool', 'defineConnector', 'defineTool']);
    expect(() => run(project, `import 'mcp-gatehouse/dist/connectors/sdk/host.js';`)).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('a connector type-checks against it: args typed from the zod schema, ctx fully typed; a wrong effect is refused', () => {
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2024', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['connector.ts'],
      }),
    );
    const source = (effect: string) => `import { defineConnector, defineTool } from 'mcp-gatehouse/connector';
import { z } from 'zod';
export default defineConnector({
  name: 'shop',
  tools: [
    defineTool({
      name: 'order',
      input: z.object({ sku: z.string(), qty: z.number().int() }),
      effect: '${effect}',
      classification: 'internal',
      handler: async (ctx, args) => {
        const key = await ctx.credential('api');
        const r = await ctx.fetch('https://shop.example/orders', { method: 'POST', headers: { ...key.headers }, body: JSON.stringify({ sku: args.sku.toUpperCase(), qty: args.qty + 1 }) });
        ctx.log.info('ordered', { actor: ctx.actor.sub, purpose: ctx.purpose });
        return { status: r.status };
      },
    }),
  ],
});
`;
    const tsc = () =>
      spawnSync(NODE, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    writeFileSync(path.join(project, 'connector.ts'), source('write'));
    const checked = tsc();
    expect(checked.stdout).toBe('');
    expect(checked.status).toBe(0);
    writeFileSync(path.join(project, 'connector.ts'), source('harmless'));
    const refused = tsc();
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).toMatch(/connector\.ts.*'"harmless"' is not assignable to type 'ToolEffect'/s);
  });
});
