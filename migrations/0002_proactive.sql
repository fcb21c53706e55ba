CREATE TABLE `proactive_batches` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`total` integer NOT NULL,
	`accepted` integer NOT NULL,
	`refused` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `proactive_requests` (
	`idempotency_key` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`batch_id` text,
	`conversation_id` text,
	`cxone_message_id` text,
	`status` text NOT NULL,
	`reason` text,
	`send_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `proactive_requests_batch_idx` ON `proactive_requests` (`batch_id`) WHERE batch_id IS NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `send_after` integer;