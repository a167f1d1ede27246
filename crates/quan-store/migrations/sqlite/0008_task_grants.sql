-- Store-guide tasks: refused grants counted, so that a guide's grant is made at most once per
-- task (its claim is keyed by the task and this count) yet may be tried again after a refusal.
ALTER TABLE tasks ADD COLUMN grant_attempts INTEGER NOT NULL DEFAULT 0;
