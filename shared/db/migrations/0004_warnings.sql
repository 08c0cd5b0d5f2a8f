-- What a submit ignored or could not honour (on the original path, the unknown fields it ignores), shown by /v1.
-- A constant default: existing rows get [] without a rewrite of the table.
ALTER TABLE jobs ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]';
