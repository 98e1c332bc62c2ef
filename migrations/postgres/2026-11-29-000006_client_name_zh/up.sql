-- The service's name in Chinese, for the pages in Traditional Chinese (empty: the English name).
ALTER TABLE clients ADD COLUMN name_zh TEXT NOT NULL DEFAULT '';
