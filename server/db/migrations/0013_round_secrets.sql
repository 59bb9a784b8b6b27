CREATE TABLE "round_secrets" (
	"round_id" integer PRIMARY KEY NOT NULL,
	"noise_key" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "round_secrets" ADD CONSTRAINT "round_secrets_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE cascade ON UPDATE no action;