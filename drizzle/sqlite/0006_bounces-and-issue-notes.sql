CREATE TABLE `issue_notes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`issue_id` integer NOT NULL,
	`staged_mail_id` integer,
	`kind` text NOT NULL,
	`text` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `issue_notes_issue_idx` ON `issue_notes` (`issue_id`);--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `bounce_status` text;--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `bounce_diagnostic` text;--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `bounced_at` text;--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `bounce_staged_mail_id` integer;