import { check, type DemoStep } from '../lib/context.ts';

/** The people: local accounts made with the CLI, passwords on stdin (never argv). */
export const accountsStep: DemoStep = {
  title: 'Local accounts for the people (gatehouse users add, password on stdin)',
  async run(ctx) {
    const { ui, paths } = ctx;
    for (const user of [ctx.users.alice, ctx.users.carol]) {
      check(user.password, `${user.sub} has no demo password`);
      const groups = user.groups.flatMap((g) => ['--group', g]);
      const { stdout } = await ctx.show(['users', 'add', user.sub, ...groups, '--password-stdin', '--data-dir', paths.dataDir], {
        stdin: `${user.password}\n`,
        stdinNote: 'password on stdin',
        expectExit: 0,
      });
      ui.ok(stdout.trim() || `added ${user.sub}`);
    }
    const list = await ctx.show(['users', 'list', '--data-dir', paths.dataDir], { expectExit: 0 });
    ui.output(list.stdout);
    check(list.stdout.includes('alice') && list.stdout.includes('carol'), 'users list does not show alice and carol');
    ui.say('Passwords are stored as argon2id hashes; the running gateway sees new accounts on its next request.');
    ui.say('With single sign-on configured (identity.upstream: Keycloak, Entra ID, Okta, Google), people sign in there instead.');
  },
};
