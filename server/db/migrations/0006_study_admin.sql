CREATE TABLE "study_config_changes" (
	"id" serial PRIMARY KEY NOT NULL,
	"study_id" text NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"before" jsonb NOT NULL,
	"after" jsonb NOT NULL,
	"effective_from_round" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rounds" ADD COLUMN "config" jsonb;--> statement-breakpoint
ALTER TABLE "study_config_changes" ADD CONSTRAINT "study_config_changes_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "study_config_changes_study" ON "study_config_changes" USING btree ("study_id","id");