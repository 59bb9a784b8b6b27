CREATE TABLE "model_approvals" (
	"id" serial PRIMARY KEY NOT NULL,
	"study_id" text NOT NULL,
	"version" integer NOT NULL,
	"previous_version" integer,
	"approved_by" text NOT NULL,
	"note" text NOT NULL,
	"approved_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "studies" ADD COLUMN "approved_version" integer;--> statement-breakpoint
ALTER TABLE "model_approvals" ADD CONSTRAINT "model_approvals_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_approvals_study" ON "model_approvals" USING btree ("study_id","id");