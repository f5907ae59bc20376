import { z } from 'zod';
import { hostPatternProblem } from '../egress/host-allow-list.js';
import { isCidr } from '../egress/cidr-set.js';

/** An exact host name or IP literal, or `*.suffix` (any name below the suffix). */
export const HostPatternSchema = z.string().superRefine((value, ctx) => {
  const problem = hostPatternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const EgressCidrSchema = z.string().refine((value) => isCidr(value), { message: 'not a CIDR network (e.g. 10.0.0.0/8 or 2001:db8::/32)' });

/**
 * `servers.<name>.egress`: where this server's outbound connections may go. The host of the
 * server's own URL (`url`, `http.baseUrl`) is always allowed; redirects and every other host
 * must be listed here or in the global `egress.allow`.
 */
export const ServerEgressSchema = z
  .strictObject({
    /** More hosts this server may reach (exact names, or `*.example.com`). */
    allow: z.array(HostPatternSchema).default([]),
    /** Non-public ranges (CIDR) this server may reach, e.g. 127.0.0.0/8 for a local API. Cloud metadata addresses stay refused. */
    allowAddresses: z.array(EgressCidrSchema).default([]),
    /** Hosts whose TLS certificate is not verified (self-signed test servers). Warns at start-up; never in production. */
    dangerouslyAllowInsecureTls: z.array(HostPatternSchema).default([]),
  })
  .prefault({});

export type ServerEgressConfig = z.infer<typeof ServerEgressSchema>;
