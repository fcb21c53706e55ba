ALTER TABLE `proactive_batches` ADD `launched` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `proactive_batches` ADD `launch_failed` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `proactive_batches` ADD `launch_refused` integer DEFAULT 0 NOT NULL;