import { z } from 'zod';
import { studyIdSchema } from './schemas';

/*
 * URL parameters (path and query), read as the strings they arrive as. A number in a URL is digits
 * only ('1e3', '0x10', ' 7' and '' are not numbers here, as `Number()` would have them) and fits
 * the PostgreSQL `integer` column it is looked up in: anything else is a 400, never a failed query.
 */

/** The largest PostgreSQL `integer`: round numbers, model versions and serial ids are stored as one. */
export const PG_INTEGER_MAX = 2_147_483_647;
const WHOLE_NUMBER_RULE = `must be a whole number from 0 to ${PG_INTEGER_MAX}`;

/** A whole number written in a URL, from 0 to PG_INTEGER_MAX. */
export const wholeNumberParamSchema = z
  .string()
  .regex(/^[0-9]{1,10}$/, WHOLE_NUMBER_RULE)
  .transform(Number)
  .pipe(z.number().max(PG_INTEGER_MAX, WHOLE_NUMBER_RULE));
export const roundParamSchema = wholeNumberParamSchema;
export const versionParamSchema = wholeNumberParamSchema;

/** `:version` where a route also takes `approved`: the approved version, whichever it is now. */
export const versionOrApprovedParamSchema = z.string().transform((v, ctx): number | 'approved' => {
  if (v === 'approved') return v;
  const n = versionParamSchema.safeParse(v);
  if (n.success) return n.data;
  ctx.addIssue({ code: 'custom', message: `must be 'approved' or a whole number from 0 to ${PG_INTEGER_MAX}` });
  return z.NEVER;
});

/** A study id in a URL: the length said first, since the pattern's message does not mention it. */
export const studyIdParamSchema = z.string().max(63, 'a study id is at most 63 characters').pipe(studyIdSchema);

/** A hospital site id in a URL: what `POST /api/sites` and its slugs make (and no longer than an invite's siteId). */
export const siteIdParamSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'a site id is 1 to 64 lower-case letters, digits or dashes');

/** A study participant's id in a URL (the server makes them with randomUUID). */
export const participantIdParamSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a participant id is 1 to 64 letters, digits, dashes or underscores');

/** An invite's id in a URL (the server makes them with randomUUID). */
export const inviteIdParamSchema = z.uuid({ error: 'an invite id is a UUID' });
