CREATE TABLE `issue_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`issue_id` integer NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`field` text NOT NULL,
	`old_value` text,
	`new_value` text
);
--> statement-breakpoint
CREATE INDEX `issue_history_issue_idx` ON `issue_history` (`issue_id`);