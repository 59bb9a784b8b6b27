CREATE TABLE "column_summaries" (
	"id" text PRIMARY KEY NOT NULL,
	"site_id" text NOT NULL,
	"summary" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "custom_templates" (
	"id" text PRIMARY KEY NOT NULL,
	"family" text NOT NULL,
	"version" integer NOT NULL,
	"definition" jsonb NOT NULL,
	"design" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "column_summaries" ADD CONSTRAINT "column_summaries_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "column_summaries_created" ON "column_summaries" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "custom_templates_family_version" ON "custom_templates" USING btree ("family","version");