CREATE TABLE `conversations` (
	`id` text PRIMARY KEY NOT NULL,
	`customer` text NOT NULL,
	`business` text,
	`status` text DEFAULT 'active' NOT NULL,
	`proactive` integer DEFAULT false NOT NULL,
	`campaign_id` text,
	`created_at` integer NOT NULL,
	`last_inbound_at` integer,
	`idle_close_at` integer
);
--> statement-breakpoint
CREATE INDEX `conversations_customer_idx` ON `conversations` (`customer`,`business`);--> statement-breakpoint
CREATE INDEX `conversations_idle_close_idx` ON `conversations` (`idle_close_at`) WHERE idle_close_at IS NOT NULL;--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`ref` text NOT NULL,
	`conversation_id` text,
	`reason` text NOT NULL,
	`attempts` integer NOT NULL,
	`state` text DEFAULT 'open' NOT NULL,
	`created_at` integer NOT NULL,
	`retried_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_ref_uq` ON `dead_letters` (`kind`,`ref`);--> statement-breakpoint
CREATE INDEX `dead_letters_open_idx` ON `dead_letters` (`state`,`created_at`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`direction` text NOT NULL,
	`cxone_message_id` text,
	`message_sid` text,
	`conversation_id` text,
	`customer` text NOT NULL,
	`sender` text,
	`state` text NOT NULL,
	`twilio_status` text,
	`segments` integer,
	`encoding` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`error_code` text,
	`opt_out` text,
	`batch_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`cxone_created_at` text,
	`submitted_at` integer,
	`check_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_cxone_id_uq` ON `messages` (`cxone_message_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_sid_uq` ON `messages` (`message_sid`);--> statement-breakpoint
CREATE INDEX `messages_conversation_idx` ON `messages` (`conversation_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `messages_check_idx` ON `messages` (`check_at`) WHERE check_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_batch_idx` ON `messages` (`batch_id`,`state`) WHERE batch_id IS NOT NULL;--> statement-breakpoint
CREATE TABLE `opt_outs` (
	`business` text NOT NULL,
	`phone` text NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`business`, `phone`)
);
--> statement-breakpoint
CREATE INDEX `opt_outs_phone_idx` ON `opt_outs` (`phone`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cxone_message_id` text NOT NULL,
	`status` text NOT NULL,
	`payload` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_message_status_uq` ON `outbox` (`cxone_message_id`,`status`);--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`next_attempt_at`) WHERE state = 'pending';--> statement-breakpoint
CREATE TABLE `status_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_sid` text NOT NULL,
	`status` text NOT NULL,
	`error_code` text,
	`received_at` integer NOT NULL,
	`matched` integer DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE INDEX `status_events_sid_idx` ON `status_events` (`message_sid`);--> statement-breakpoint
CREATE INDEX `status_events_orphan_idx` ON `status_events` (`received_at`) WHERE matched = 0;