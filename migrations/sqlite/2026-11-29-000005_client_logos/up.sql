-- A department's logo, shown on the sign-in and consent pages. Kept by Tessera itself
-- (pages load no third-party images); PNG or JPEG only, at most 64 KiB.
CREATE TABLE client_logos (
    client_id     TEXT    NOT NULL PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    content_type  TEXT    NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    bytes         BLOB    NOT NULL,
    updated_at    BIGINT  NOT NULL
);
