ALTER TABLE `outbound_mails` ADD `mail` text;--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `last_attempt_at` text;--> statement-breakpoint
CREATE INDEX `outbound_status_idx` ON `outbound_mails` (`status`);--> statement-breakpoint
ALTER TABLE `staged_mails` ADD `claimed_by` text;--> statement-breakpoint
ALTER TABLE `staged_mails` ADD `claimed_at` text;--> statement-breakpoint
ALTER TABLE `staged_mails` ADD `subject_override` text;--> statement-breakpoint
ALTER TABLE `staged_mails` ADD `raw_truncated` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `staged_mails_message_id_idx` ON `staged_mails` (`message_id`);