import { html, pageResponse } from './html.js';

/** A refusal or error, explained without internals: never a stack trace. */
export function messagePage(
  title: string,
  message: string,
  options: { status?: number; code?: string; back?: { href: string; label: string } } = {},
): Response {
  return pageResponse(
    title,
    html`<p role="alert">${message}</p>${options.code ? html`<p class="note">Reference: <code>${options.code}</code></p>` : html``}${options.back ? html`<p><a href="${options.back.href}">${options.back.label}</a></p>` : html``}`,
    options.status ?? 400,
  );
}
