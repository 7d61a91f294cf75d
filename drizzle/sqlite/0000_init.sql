CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`support_level` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`issue_id` integer NOT NULL,
	`interaction_id` integer NOT NULL,
	`details` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `actions_issue_idx` ON `actions` (`issue_id`);--> statement-breakpoint
CREATE INDEX `actions_interaction_idx` ON `actions` (`interaction_id`);--> statement-breakpoint
CREATE TABLE `attachments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`staged_mail_id` integer NOT NULL,
	`action_id` integer,
	`filename` text,
	`content_type` text,
	`size` integer NOT NULL,
	`content_id` text,
	`sha256` text NOT NULL,
	`stored_path` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `attachments_staged_idx` ON `attachments` (`staged_mail_id`);--> statement-breakpoint
CREATE TABLE `interactions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_identification_id` integer NOT NULL,
	`staged_mail_id` integer,
	`interaction_date` text NOT NULL,
	`originator` text NOT NULL,
	`type` text NOT NULL,
	`headers` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `issues` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guid` text NOT NULL,
	`reference` text,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`wait_type` text,
	`parent_id` integer,
	`queue` text,
	`assignee` text,
	`new_info` integer DEFAULT false NOT NULL,
	`merged_into_id` integer,
	`split_from_id` integer,
	`converted_to_id` integer,
	`follows_closed_id` integer,
	`user_identification_id` integer NOT NULL,
	`subject` text,
	`recipient` text,
	`open_date` text NOT NULL,
	`updated_at` text NOT NULL,
	`closed_date` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `issues_guid_unique` ON `issues` (`guid`);--> statement-breakpoint
CREATE UNIQUE INDEX `issues_reference_unique` ON `issues` (`reference`);--> statement-breakpoint
CREATE INDEX `issues_uid_idx` ON `issues` (`user_identification_id`);--> statement-breakpoint
CREATE INDEX `issues_parent_idx` ON `issues` (`parent_id`);--> statement-breakpoint
CREATE INDEX `issues_split_idx` ON `issues` (`split_from_id`);--> statement-breakpoint
CREATE INDEX `issues_state_idx` ON `issues` (`state`);--> statement-breakpoint
CREATE TABLE `outbound_mails` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`issue_id` integer,
	`staged_mail_id` integer,
	`to_address` text NOT NULL,
	`subject` text NOT NULL,
	`message_id` text NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbound_mails_message_id_unique` ON `outbound_mails` (`message_id`);--> statement-breakpoint
CREATE INDEX `outbound_to_idx` ON `outbound_mails` (`to_address`,`created_at`);--> statement-breakpoint
CREATE TABLE `staged_mail_status_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`staged_mail_id` integer NOT NULL,
	`status` text NOT NULL,
	`at` text NOT NULL,
	`note` text
);
--> statement-breakpoint
CREATE INDEX `status_history_staged_idx` ON `staged_mail_status_history` (`staged_mail_id`);--> statement-breakpoint
CREATE TABLE `staged_mails` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`received_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`dedup_key` text,
	`duplicate_of` integer,
	`content_hash` text NOT NULL,
	`raw_size` integer NOT NULL,
	`raw` blob,
	`raw_path` text,
	`envelope_recipient` text,
	`envelope_sender` text,
	`recipient` text,
	`message_id` text,
	`in_reply_to` text,
	`references` text,
	`from_address` text,
	`from_name` text,
	`to_addresses` text,
	`cc_addresses` text,
	`delivered_to` text,
	`subject` text,
	`date` text,
	`headers` text NOT NULL,
	`text_body` text,
	`html_body` text,
	`reason` text,
	`error` text,
	`auto_generated` integer,
	`auto_reasons` text,
	`trace` text,
	`user_identification_id` integer,
	`interaction_id` integer,
	`attempts` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `staged_mails_dedup_key_unique` ON `staged_mails` (`dedup_key`);--> statement-breakpoint
CREATE INDEX `staged_mails_status_idx` ON `staged_mails` (`status`);--> statement-breakpoint
CREATE INDEX `staged_mails_message_id_idx` ON `staged_mails` (`message_id`);--> statement-breakpoint
CREATE INDEX `staged_mails_hash_idx` ON `staged_mails` (`content_hash`);--> statement-breakpoint
CREATE TABLE `user_identifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer,
	`email` text,
	`first_names` text,
	`last_name` text,
	`date_added` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `uid_user_idx` ON `user_identifications` (`user_id`);--> statement-breakpoint
CREATE INDEX `uid_email_idx` ON `user_identifications` (`email`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text NOT NULL,
	`first_names` text,
	`last_name` text,
	`account_id` integer,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);