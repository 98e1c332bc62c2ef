-- What a refresh token's grant proved, so a refreshed ID token reports the same
-- assurance and the same consented claims as the first one.
ALTER TABLE refresh_tokens ADD COLUMN acr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';
ALTER TABLE refresh_tokens ADD COLUMN claims TEXT NOT NULL DEFAULT '[]';
