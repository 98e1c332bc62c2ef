ALTER TABLE consents DROP COLUMN last_shared_at;
