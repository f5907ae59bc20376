import { check, type DemoContext, type DemoUser } from '../lib/context.ts';

/** Mints a token with `gatehouse token issue` (the operator's tool for service agents and scripts). */
export async function issueToken(ctx: DemoContext, user: DemoUser, options: { show?: boolean } = {}): Promise<string> {
  const args = ['token', 'issue', '--data-dir', ctx.paths.dataDir, '--sub', user.sub, ...(user.groups.length ? ['--groups', user.groups.join(',')] : [])];
  ctx.ui.cmd(
    `gatehouse token issue --data-dir ${ctx.rel(ctx.paths.dataDir)} --sub ${user.sub}${user.groups.length ? ` --groups ${user.groups.join(',')}` : ''}`,
  );
  const { stdout } = await ctx.gatehouse(args, { expectExit: 0 });
  const token = stdout.trim();
  check(/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token), `token issue printed something other than one JWT: ${stdout.slice(0, 80)}`);
  ctx.tokens.set(user.sub, token);
  if (options.show !== false) {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined;
    ctx.ui.ok(`${token.slice(0, 20)}…${token.slice(-8)}  (EdDSA-signed JWT, ${token.length} chars)`);
    const groups = Array.isArray(claims.groups) ? (claims.groups as string[]).join(',') : '';
    ctx.ui.say(
      `claims: sub=${String(claims.sub)}${groups ? ` groups=${groups}` : ''} aud=${String(claims.aud)}` +
        (exp ? ` expires ${exp.toLocaleTimeString()} (in ${Math.round((exp.getTime() - Date.now()) / 60_000)} min)` : ''),
    );
  }
  return token;
}
