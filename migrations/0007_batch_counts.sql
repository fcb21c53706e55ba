ALTER TABLE `proactive_batches` ADD `counts` text;--> statement-breakpoint
ALTER TABLE `proactive_batches` ADD `counted_at` integer;