ALTER TABLE "model_versions" ALTER COLUMN "weights" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "updates" ALTER COLUMN "payload" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "weights_bytes" integer;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "server_state_sha256" text;--> statement-breakpoint
ALTER TABLE "rounds" ADD COLUMN "bounds" jsonb;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "payload_sha256" text;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "payload_bytes" integer;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "payload_data_offset" integer;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "norm" double precision;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "clip_scale" double precision DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "updates" ADD COLUMN "payload_deleted_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "updates_payload" ON "updates" USING btree ("payload_sha256");