import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { check, type DemoStep } from '../lib/context.ts';

/** Secrets go into the encrypted vault on stdin; no command, page, log line or audit record shows them again. */
export const vaultStep: DemoStep = {
  title: 'The vault: a secret goes in on stdin; nothing ever prints it again',
  async run(ctx) {
    const { ui, paths } = ctx;
    // A canary: a made-up API key that must appear nowhere after this.
    const secret = `sk_live_demo${randomBytes(16).toString('hex')}`;
    ui.say(`GATEHOUSE_MASTER_KEY_FILE=${ctx.rel(paths.masterKeyFile)} (the key-encryption key lives outside the data dir)`);
    const put = await ctx.show(['vault', 'put', 'crm-api-key', '--data-dir', paths.dataDir], {
      stdin: `${secret}\n`,
      stdinNote: 'value on stdin, never argv',
      expectExit: 0,
    });
    ui.ok(put.stdout.trim());
    if (put.stderr.trim()) ui.output(put.stderr.trim().split('\n').slice(0, 3).join('\n'));

    const list = await ctx.show(['vault', 'list', '--data-dir', paths.dataDir], { expectExit: 0 });
    ui.output(list.stdout);
    check(list.stdout.includes('crm-api-key'), 'vault list does not show crm-api-key');

    const exported = await ctx.gatehouse(['audit', 'export', '--data-dir', paths.dataDir], { expectExit: 0 });
    const places: [string, string][] = [
      ['vault put output', put.stdout + put.stderr],
      ['vault list output', list.stdout + list.stderr],
      ['the audit log', exported.stdout],
      ['the gateway log', readFileSync(paths.logPath, 'utf8')],
    ];
    for (const [where, text] of places) check(!text.includes(secret), `the secret appears in ${where}`);
    check(exported.stdout.includes('"vault.put"'), 'the audit log has no vault.put record');
    ui.ok(`the value is in none of: ${places.map(([w]) => w).join(', ')} (vault.put is audited by name only)`);
    ui.say('A server uses it by name: `env: { CRM_API_KEY: vault:crm-api-key }` or `headers: { Authorization: "Bearer vault:crm-api-key" }`;');
    ui.say("it is decrypted only into that server's own process or request, and scrubbed from results on the way back to the agent.");
    ui.say('`vault rotate`, `vault delete`, `vault backup-key` (lose the key file and the vault is unreadable: back it up).');
  },
};
