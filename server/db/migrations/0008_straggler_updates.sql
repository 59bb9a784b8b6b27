DROP INDEX "updates_round_participant";--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "staleness" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "weight" double precision DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "updates_round_participant" ON "updates" USING btree ("round_id","participant_id","staleness");