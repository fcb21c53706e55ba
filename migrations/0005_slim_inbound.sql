-- Messages lose AUTOINCREMENT (it wrote sqlite_sequence on every insert) and delivered inbound
-- texts leave the retention index: their thread's Durable Object prunes them (docs/contract.md §10).
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_messages` (
	`id` integer PRIMARY KEY NOT NULL,
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
	`carrier_retries` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`error_code` text,
	`opt_out` text,
	`batch_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`cxone_created_at` text,
	`submitted_at` integer,
	`check_at` integer,
	`check_attempts` integer DEFAULT 0 NOT NULL,
	`send_after` integer
);
--> statement-breakpoint
INSERT INTO `__new_messages`("id", "direction", "cxone_message_id", "message_sid", "conversation_id", "customer", "sender", "state", "twilio_status", "segments", "encoding", "attempts", "carrier_retries", "last_error", "error_code", "opt_out", "batch_id", "created_at", "updated_at", "cxone_created_at", "submitted_at", "check_at", "check_attempts", "send_after") SELECT "id", "direction", "cxone_message_id", "message_sid", "conversation_id", "customer", "sender", "state", "twilio_status", "segments", "encoding", "attempts", "carrier_retries", "last_error", "error_code", "opt_out", "batch_id", "created_at", "updated_at", "cxone_created_at", "submitted_at", "check_at", "check_attempts", "send_after" FROM `messages`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `messages_cxone_id_uq` ON `messages` (`cxone_message_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_sid_uq` ON `messages` (`message_sid`);--> statement-breakpoint
CREATE INDEX `messages_conversation_idx` ON `messages` (`conversation_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `messages_check_idx` ON `messages` (`check_at`) WHERE check_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_batch_idx` ON `messages` (`batch_id`,`state`) WHERE batch_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_settled_idx` ON `messages` (`updated_at`) WHERE state IN ('settled', 'failed');