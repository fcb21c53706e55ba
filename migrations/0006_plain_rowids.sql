-- The outbox and status_events lose AUTOINCREMENT too: it wrote sqlite_sequence, one more D1 row,
-- on every insert. A plain rowid is still above every live row, which is all the ids are used for.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_outbox` (
	`id` integer PRIMARY KEY NOT NULL,
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
INSERT INTO `__new_outbox`("id", "cxone_message_id", "status", "payload", "state", "attempts", "next_attempt_at", "last_error", "created_at") SELECT "id", "cxone_message_id", "status", "payload", "state", "attempts", "next_attempt_at", "last_error", "created_at" FROM `outbox`;--> statement-breakpoint
DROP TABLE `outbox`;--> statement-breakpoint
ALTER TABLE `__new_outbox` RENAME TO `outbox`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_message_status_uq` ON `outbox` (`cxone_message_id`,`status`);--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`next_attempt_at`) WHERE state = 'pending';--> statement-breakpoint
CREATE TABLE `__new_status_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`message_sid` text NOT NULL,
	`status` text NOT NULL,
	`error_code` text,
	`received_at` integer NOT NULL,
	`matched` integer DEFAULT true NOT NULL,
	`next_check_at` integer,
	`check_attempts` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_status_events`("id", "message_sid", "status", "error_code", "received_at", "matched", "next_check_at", "check_attempts") SELECT "id", "message_sid", "status", "error_code", "received_at", "matched", "next_check_at", "check_attempts" FROM `status_events`;--> statement-breakpoint
DROP TABLE `status_events`;--> statement-breakpoint
ALTER TABLE `__new_status_events` RENAME TO `status_events`;--> statement-breakpoint
CREATE INDEX `status_events_sid_idx` ON `status_events` (`message_sid`);--> statement-breakpoint
CREATE INDEX `status_events_orphan_idx` ON `status_events` (`received_at`) WHERE matched = 0;--> statement-breakpoint
CREATE INDEX `status_events_orphan_due_idx` ON `status_events` (`next_check_at`) WHERE matched = 0;