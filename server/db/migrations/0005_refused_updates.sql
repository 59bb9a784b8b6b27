CREATE TABLE "refused_updates" (
	"id" serial PRIMARY KEY NOT NULL,
	"study_id" text NOT NULL,
	"round_number" integer NOT NULL,
	"participant_id" text NOT NULL,
	"code" text NOT NULL,
	"reason" text NOT NULL,
	"bytes" integer NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "refused_updates" ADD CONSTRAINT "refused_updates_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refused_updates" ADD CONSTRAINT "refused_updates_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "refused_updates_study" ON "refused_updates" USING btree ("study_id","id");