ALTER TABLE "evaluations" ADD COLUMN "flag" text;--> statement-breakpoint
ALTER TABLE "evaluations" ADD COLUMN "included_by" text;--> statement-breakpoint
ALTER TABLE "evaluations" ADD COLUMN "included_at" timestamp with time zone;