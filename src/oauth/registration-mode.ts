/** Whether dynamic client registration (RFC 7591) is offered: `oauth.registration` when set, else `oauth.dynamicRegistration`. */
export function registrationOpen(oauth: { registration?: 'open' | 'off' | undefined; dynamicRegistration: boolean }): boolean {
  return oauth.registration === undefined ? oauth.dynamicRegistration : oauth.registration === 'open';
}
