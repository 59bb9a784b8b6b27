ALTER TABLE "users" ADD COLUMN "link_epoch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "links_revoked_at" timestamp with time zone;