import { z } from 'zod';

export const roleSchema = z.enum(['platform_admin', 'site_admin', 'staff', 'patient']);
export type Role = z.infer<typeof roleSchema>;

export const passwordSchema = z.string().min(10, 'a password needs at least 10 characters').max(1024);

/** `POST /api/sites`: a hospital that will take part in studies. */
export const createSiteSchema = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a site id is 2 to 63 lower-case letters, digits or dashes')
    .optional(),
  name: z.string().trim().min(2).max(120),
});
export type CreateSite = z.infer<typeof createSiteSchema>;

/** `POST /api/invites`: a single-use code for one role, at one site (none for patients). */
export const createInviteSchema = z
  .object({
    role: roleSchema.exclude(['platform_admin']),
    siteId: z.string().min(1).max(64).optional(),
    /** How long the code can be redeemed; 1 hour to 30 days. */
    expiresInHours: z.number().int().min(1).max(24 * 30).default(72),
  })
  .refine((v) => (v.role === 'patient') === !v.siteId, { message: 'site admins and staff need a site; patients have none', path: ['siteId'] });
export type CreateInvite = z.input<typeof createInviteSchema>;

export interface CreatedInvite {
  id: string;
  /** Shown once: only its hash is kept. */
  code: string;
  /** The page that redeems it. */
  url: string;
  role: Role;
  siteId: string | null;
  expiresAt: string;
}

export interface InviteView {
  id: string;
  role: Role;
  siteId: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  redeemedAt: string | null;
  redeemedBy: string | null;
  revokedAt: string | null;
  status: 'open' | 'redeemed' | 'expired' | 'revoked';
}

/** `GET /api/auth/invites/:code`: what the join page shows before an account is made. */
export interface InvitePreview {
  role: Role;
  site: { id: string; name: string } | null;
  expiresAt: string;
}

export const redeemInviteSchema = z.object({
  code: z.string().min(8).max(128),
  email: z.string().trim().toLowerCase().email().max(320),
  password: passwordSchema,
});
export type RedeemInvite = z.infer<typeof redeemInviteSchema>;

export interface SessionUser {
  email: string;
  role: Role;
  siteId: string | null;
  /** Where this role's pages start. */
  home: string;
}

/** `GET /api/sites/:id`: a site's people and invites, for its platform admin and its site admins. */
export interface SiteDetail {
  id: string;
  name: string;
  demo: boolean;
  suspendedAt: string | null;
  /** `linksRevokedAt`: when the account's hospital sign-in links were last revoked or re-issued (null: never). */
  members: { id: string; email: string; role: Role; createdAt: string; linksRevokedAt: string | null }[];
  invites: InviteView[];
  studyIds: string[];
}

/** A staff account's id in a path (`/api/sites/:id/members/:userId/link`). */
export const userIdParamSchema = z.uuid({ error: 'an account id is a UUID' });

/**
 * `POST /api/sites/:id/members/:userId/link`: a new hospital sign-in link for the account, which ends
 * its earlier ones. Shown once: only the account's link generation is kept, never the link.
 */
export interface IssuedLink {
  userId: string;
  email: string;
  siteId: string;
  url: string;
  expiresAt: string;
}

export interface AuditEventView {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  studyId: string | null;
  siteId: string | null;
  address: string | null;
  detail: Record<string, unknown> | null;
}

export const auditQuerySchema = z.object({
  action: z.string().max(64).optional(),
  actor: z.string().max(320).optional(),
  studyId: z.string().max(64).optional(),
  siteId: z.string().max(64).optional(),
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
  /** Events older than this id: the next page. */
  before: z.coerce.number().int().positive().max(2_147_483_647, 'before is an event id (at most 2147483647)').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.input<typeof auditQuerySchema>;

export interface AuditPage {
  events: AuditEventView[];
  /** Pass as `before` for the next, older page; null at the end. */
  next: number | null;
}
