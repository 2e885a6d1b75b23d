-- The number of entries, kept by Append in the same transaction as the
-- entries themselves (under the append lock), so Count does not have to
-- count millions of rows.
CREATE TABLE entry_count (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    n   bigint  NOT NULL
);

INSERT INTO entry_count (n) SELECT count(*) FROM entries;
