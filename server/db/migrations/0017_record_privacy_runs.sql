CREATE TABLE "record_privacy_runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"study_id" text NOT NULL,
	"round_id" integer NOT NULL,
	"participant_id" text NOT NULL,
	"sample_rate" double precision NOT NULL,
	"steps" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "record_privacy_runs" ADD CONSTRAINT "record_privacy_runs_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "record_privacy_runs" ADD CONSTRAINT "record_privacy_runs_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "record_privacy_runs" ADD CONSTRAINT "record_privacy_runs_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "record_privacy_runs_round_participant" ON "record_privacy_runs" USING btree ("round_id","participant_id");--> statement-breakpoint
CREATE INDEX "record_privacy_runs_study" ON "record_privacy_runs" USING btree ("study_id","participant_id");