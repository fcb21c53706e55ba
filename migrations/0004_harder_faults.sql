CREATE TABLE `consent_changes` (
	`business` text NOT NULL,
	`phone` text NOT NULL,
	`at` integer NOT NULL,
	`state` text NOT NULL,
	PRIMARY KEY(`business`, `phone`)
);
--> statement-breakpoint
ALTER TABLE `messages` ADD `check_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_settled_idx` ON `messages` (`updated_at`) WHERE state IN ('delivered', 'settled', 'failed');--> statement-breakpoint
ALTER TABLE `proactive_batches` ADD `finished_at` integer;--> statement-breakpoint
CREATE INDEX `proactive_batches_unfinished_idx` ON `proactive_batches` (`created_at`) WHERE finished_at IS NULL;--> statement-breakpoint
CREATE INDEX `proactive_batches_finished_idx` ON `proactive_batches` (`finished_at`) WHERE finished_at IS NOT NULL;--> statement-breakpoint
ALTER TABLE `status_events` ADD `next_check_at` integer;--> statement-breakpoint
ALTER TABLE `status_events` ADD `check_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `status_events_orphan_due_idx` ON `status_events` (`next_check_at`) WHERE matched = 0;--> statement-breakpoint
CREATE INDEX `conversations_activity_idx` ON `conversations` (coalesce(last_inbound_at, created_at));--> statement-breakpoint
CREATE INDEX `dead_letters_resolved_idx` ON `dead_letters` (`retried_at`) WHERE state = 'retried';--> statement-breakpoint
CREATE INDEX `proactive_requests_created_idx` ON `proactive_requests` (`created_at`);
--> statement-breakpoint
-- Orphan callbacks from before next_check_at existed are due at once.
UPDATE `status_events` SET `next_check_at` = `received_at` WHERE matched = 0 AND `next_check_at` IS NULL;