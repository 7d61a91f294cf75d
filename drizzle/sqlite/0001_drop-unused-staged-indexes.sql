DROP INDEX `staged_mails_message_id_idx`;--> statement-breakpoint
DROP INDEX `staged_mails_hash_idx`;