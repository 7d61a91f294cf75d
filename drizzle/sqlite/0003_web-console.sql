CREATE INDEX `interactions_staged_idx` ON `interactions` (`staged_mail_id`);--> statement-breakpoint
CREATE INDEX `issues_merged_into_idx` ON `issues` (`merged_into_id`);--> statement-breakpoint
CREATE INDEX `issues_kind_idx` ON `issues` (`kind`);--> statement-breakpoint
CREATE INDEX `issues_queue_idx` ON `issues` (`queue`);--> statement-breakpoint
CREATE INDEX `issues_assignee_idx` ON `issues` (`assignee`);--> statement-breakpoint
CREATE INDEX `issues_converted_to_idx` ON `issues` (`converted_to_id`);--> statement-breakpoint
CREATE INDEX `issues_follows_closed_idx` ON `issues` (`follows_closed_id`);--> statement-breakpoint
CREATE INDEX `outbound_issue_idx` ON `outbound_mails` (`issue_id`);--> statement-breakpoint
CREATE INDEX `staged_mails_from_idx` ON `staged_mails` (`from_address`);--> statement-breakpoint
CREATE INDEX `staged_mails_received_idx` ON `staged_mails` (`received_at`);