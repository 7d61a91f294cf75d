CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `issues` ADD `flood_at` text;--> statement-breakpoint
ALTER TABLE `issues` ADD `unauthenticated` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `to_key` text;--> statement-breakpoint
ALTER TABLE `outbound_mails` ADD `to_domain` text;--> statement-breakpoint
CREATE INDEX `outbound_to_key_idx` ON `outbound_mails` (`to_key`,`created_at`);--> statement-breakpoint
CREATE INDEX `outbound_to_domain_idx` ON `outbound_mails` (`to_domain`,`created_at`);--> statement-breakpoint
CREATE INDEX `outbound_created_idx` ON `outbound_mails` (`created_at`);