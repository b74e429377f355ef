-- U18 "save the selection as a list": a run sends its users in many batches; the first batch
-- applied creates the list and the others find it by this key (the run's id), so that
-- batches in any order, repeated or concurrent, end with one list. NULL for other lists.
ALTER TABLE lists ADD COLUMN list_key text;
CREATE UNIQUE INDEX lists_list_key_key ON lists (list_key) WHERE list_key IS NOT NULL;
