DROP INDEX `issues_parent_idx`;--> statement-breakpoint
DROP INDEX `issues_split_idx`;--> statement-breakpoint
DROP INDEX `issues_merged_into_idx`;--> statement-breakpoint
DROP INDEX `issues_queue_idx`;--> statement-breakpoint
DROP INDEX `issues_assignee_idx`;--> statement-breakpoint
DROP INDEX `issues_converted_to_idx`;--> statement-breakpoint
DROP INDEX `issues_follows_closed_idx`;--> statement-breakpoint
CREATE INDEX `issues_parent_idx` ON `issues` (`parent_id`) WHERE "issues"."parent_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `issues_split_idx` ON `issues` (`split_from_id`) WHERE "issues"."split_from_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `issues_merged_into_idx` ON `issues` (`merged_into_id`) WHERE "issues"."merged_into_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `issues_queue_idx` ON `issues` (`queue`) WHERE "issues"."queue" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `issues_assignee_idx` ON `issues` (`assignee`) WHERE "issues"."assignee" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `issues_converted_to_idx` ON `issues` (`converted_to_id`) WHERE "issues"."converted_to_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `issues_follows_closed_idx` ON `issues` (`follows_closed_id`) WHERE "issues"."follows_closed_id" IS NOT NULL;