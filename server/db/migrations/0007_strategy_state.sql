ALTER TABLE "model_versions" ADD COLUMN "server_state" "bytea";--> statement-breakpoint
ALTER TABLE "rounds" ADD COLUMN "aggregation_report" jsonb;