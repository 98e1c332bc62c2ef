ALTER TABLE clients DROP COLUMN name_zh;
