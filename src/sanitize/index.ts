export { AhoCorasickMatcher, buildMatcher, EMPTY_MATCHER, mergeMatches, type Match, type Matcher, type Pattern } from './matcher.js';
export { encodedForms } from './encodings.js';
export { HELD_TYPE, HeldSecrets, heldSecrets, MIN_HELD_LENGTH, mirrorRegistrations, patternsFor } from './held-secrets.js';
export { MAX_DEPTH, placeholder, redactStrings, SanitizeError } from './redact-strings.js';
export { CALLER_CREDENTIAL_TYPE, CredentialSanitizer, sanitizer, type Channel, type SanitizeScope, type Sanitizer } from './sanitizer.js';
export { outboundChannel } from './outbound-channel.js';
