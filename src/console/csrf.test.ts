import { describe, expect, it } from 'vitest';
import { CsrfTokens } from './csrf.js';
import { escapeHtml, html } from './html.js';

describe('CsrfTokens', () => {
  it('verifies a token only for the session and form it was issued for, in this process', () => {
    const tokens = new CsrfTokens();
    const token = tokens.issue('session-a', 'apr_1');
    expect(tokens.verify('session-a', 'apr_1', token)).toBe(true);
    expect(tokens.verify('session-b', 'apr_1', token)).toBe(false);
    expect(tokens.verify('session-a', 'apr_2', token)).toBe(false);
    expect(new CsrfTokens().verify('session-a', 'apr_1', token)).toBe(false);
    expect(tokens.verify('session-a', 'apr_1', undefined)).toBe(false);
    expect(tokens.verify('session-a', 'apr_1', `${token}x`)).toBe(false);
  });
});

describe('html', () => {
  it('escapes every interpolated value', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(html`<p title="${'"><script>'}">${'<b>'}${html`<i>ok</i>`}</p>`.value).toBe('<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;<i>ok</i></p>');
  });
});
