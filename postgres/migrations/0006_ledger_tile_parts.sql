-- Tiles are stored in parts of at most 32 hashes (1 KiB), small enough to
-- stay in the row: a whole tile (8 KiB) went out of line (TOAST) and was
-- rewritten whole as it grew. An append writes only the parts it changed.
-- A tile is its parts concatenated in order.
ALTER TABLE ledger_tiles ADD COLUMN part smallint NOT NULL DEFAULT 0;
ALTER TABLE ledger_tiles DROP CONSTRAINT ledger_tiles_pkey;
INSERT INTO ledger_tiles (level, idx, part, hashes)
    SELECT t.level, t.idx, p.n, substring(t.hashes FROM p.n * 1024 + 1 FOR 1024)
    FROM ledger_tiles t CROSS JOIN generate_series(1, 7) AS p(n)
    WHERE t.part = 0 AND length(t.hashes) > p.n * 1024;
UPDATE ledger_tiles SET hashes = substring(hashes FROM 1 FOR 1024) WHERE part = 0 AND length(hashes) > 1024;
ALTER TABLE ledger_tiles ADD PRIMARY KEY (level, idx, part);
ALTER TABLE ledger_tiles ALTER COLUMN part DROP DEFAULT;
ALTER TABLE ledger_tiles ALTER COLUMN hashes SET STORAGE MAIN;
