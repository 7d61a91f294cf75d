CREATE INDEX `issues_merged_into_idx` ON `issues` (`merged_into_id`);--> statement-breakpoint
CREATE INDEX `outbound_issue_idx` ON `outbound_mails` (`issue_id`);--> statement-breakpoint
CREATE INDEX `outbound_status_idx` ON `outbound_mails` (`status`);--> statement-breakpoint
CREATE INDEX `staged_mails_from_idx` ON `staged_mails` (`from_address`);--> statement-breakpoint
CREATE INDEX `staged_mails_message_id_idx` ON `staged_mails` (`message_id`);--> statement-breakpoint
CREATE INDEX `staged_mails_received_idx` ON `staged_mails` (`received_at`);