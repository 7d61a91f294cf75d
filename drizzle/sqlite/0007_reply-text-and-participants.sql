CREATE TABLE `issue_participants` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`issue_id` integer NOT NULL,
	`email` text NOT NULL,
	`joined` text NOT NULL,
	`staged_mail_id` integer,
	`added_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `issue_participants_issue_email_idx` ON `issue_participants` (`issue_id`,`email`);--> statement-breakpoint
ALTER TABLE `actions` ADD `reply_text` text;