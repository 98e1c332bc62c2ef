ALTER TABLE refresh_tokens DROP COLUMN claims;
ALTER TABLE refresh_tokens DROP COLUMN amr;
ALTER TABLE refresh_tokens DROP COLUMN acr;
