CREATE TABLE "site_statistics" (
	"study_id" text NOT NULL,
	"participant_id" text NOT NULL,
	"statistics" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "site_statistics_study_id_participant_id_pk" PRIMARY KEY("study_id","participant_id")
);
--> statement-breakpoint
ALTER TABLE "studies" ADD COLUMN "normalisation" jsonb;--> statement-breakpoint
ALTER TABLE "site_statistics" ADD CONSTRAINT "site_statistics_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "site_statistics" ADD CONSTRAINT "site_statistics_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;