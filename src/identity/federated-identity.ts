/**
 * How a federated identity is named: the IdP's issuer and its `sub` for the person (OpenID
 * Connect Core §2: "locally unique and never reassigned within the Issuer"). Names such as
 * `preferred_username` or `email` are chosen by users or IdP administrators and can be
 * reassigned, so they never identify an account here.
 */

/** OpenID Connect Core §2: `sub` is at most 255 ASCII characters. */
export const MAX_SUBJECT_LENGTH = 255;
const MAX_ISSUER_LENGTH = 2048;

/**
 * The issuer as stored: without trailing slashes, so `https://idp.example/` and
 * `https://idp.example` (which discovery treats as the same issuer) are one key.
 */
export function issuerKey(issuer: string): string {
  let end = issuer.length;
  while (end > 0 && issuer.charCodeAt(end - 1) === 0x2f) end--;
  return issuer.slice(0, end);
}

/** Why an (issuer, subject) pair is unusable, or undefined. */
export function federatedIdentityProblem(issuer: string, subject: string): string | undefined {
  if (issuer.length === 0 || issuer.length > MAX_ISSUER_LENGTH) return 'the issuer must be a URL of at most 2048 characters';
  const url = URL.parse(issuer);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return `the issuer "${issuer}" is not an http(s) URL`;
  if (subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) return `the subject must be 1 to ${MAX_SUBJECT_LENGTH} characters`;
  for (let i = 0; i < subject.length; i++) {
    const c = subject.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return 'the subject must be printable ASCII';
  }
  return undefined;
}
