import { z } from 'zod';
import { columnSummarySchema } from '../data/columns';
import { studyDesignSchema } from '../tasks/design';

/*
 * Custom study templates (issue 20): a platform admin designs a tabular study in the console, the
 * server stores it as data and every tab and process registers it like a built-in template.
 */

/** `POST /api/templates`: a new custom study family, or the next version of one (same features and label). */
export const createTemplateRequestSchema = z.strictObject({
  design: studyDesignSchema,
  /** What a new version changes, in a sentence (shown when choosing a version). */
  changes: z.string().trim().max(500).optional(),
});
export type CreateTemplateRequest = z.input<typeof createTemplateRequestSchema>;

/** `POST /api/column-summaries`: one site's columns (names, types, ranges, codes; never rows), sent from its tab. */
export const columnSummaryRequestSchema = columnSummarySchema;

/** `GET /api/column-summaries`: what sites sent, newest first, for the designer to start from. */
export interface ColumnSummaryView {
  id: string;
  siteId: string;
  siteName: string;
  createdAt: string;
  summary: z.infer<typeof columnSummarySchema>;
}
