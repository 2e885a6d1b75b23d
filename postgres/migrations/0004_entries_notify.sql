-- Wake-ups for the processes that follow the log (live streams of every
-- instance sharing the schema): every statement that inserts entries sends
-- NOTIFY on the schema's channel, delivered when its transaction commits.
-- The notification carries no data: followers read the new entries by seq.
-- PostgreSQL folds identical notifications of one transaction into one, so
-- a batch costs one notification whatever its size.
--
-- The channel is 'wtb_entries_' followed by the md5 of the schema name in
-- hex (an identifier of 44 bytes, whatever the schema's length).
CREATE OR REPLACE FUNCTION entries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wtb_entries_' || md5(TG_TABLE_SCHEMA), '');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS entries_notify ON entries;
CREATE TRIGGER entries_notify AFTER INSERT ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION entries_notify();
