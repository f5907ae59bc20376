import { describe, expect, it } from 'vitest';
import { fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import { CredentialSanitizer, HeldSecrets, type Channel, type Sanitizer } from '../../sanitize/index.js';
import { sanitizeStage } from './sanitize.js';

describe('sanitize stage', () => {
  it('checks what the call returns as a result of its method', async () => {
    const seen: Channel[] = [];
    const recording: Sanitizer = {
      sanitize(message, channel) {
        seen.push(channel);
        return message;
      },
    };
    const result = { content: [{ type: 'text', text: 'fine' }] };
    expect(await sanitizeStage(recording).run(fakeCall(), fakeNext({ result }))).toBe(result);
    expect(seen).toEqual([{ kind: 'result', method: 'tools/call' }]);
  });

  it('removes a credential the gateway holds from whatever the downstream echoes', async () => {
    const held = new HeldSecrets();
    const secret = 'pg-lease-password-7f3a9c21d8e4b6';
    held.add(secret);
    const out = await sanitizeStage(new CredentialSanitizer(held)).run(
      fakeCall(),
      fakeNext({ result: { content: [{ type: 'text', text: `connected as role with password ${secret}` }] } }),
    );
    expect(JSON.stringify(out)).not.toContain(secret);
    expect((out as { content: { text: string }[] }).content[0]?.text).toMatch(/^connected as role with password \[REDACTED/);
  });

  it('checks nothing when the call fails: the error goes on as it is', async () => {
    const seen: unknown[] = [];
    const recording: Sanitizer = { sanitize: (m) => (seen.push(m), m) };
    const failure = new Error('upstream down');
    await expect(sanitizeStage(recording).run(fakeCall(), fakeNext({ error: failure }))).rejects.toBe(failure);
    expect(seen).toEqual([]);
  });
});
