-- Vulnerability data for image scanning: OSV records per ecosystem (see
-- meta/vulndb.go). An import writes each ecosystem it replaces as a new
-- generation, in batches that lookups do not see, and then points
-- vuln_ecosystems at the new generations in one transaction. Lookups read
-- only the generations vuln_ecosystems names.
--
-- AUTOINCREMENT: a generation's id is never reused, so rows that a dead
-- import left are never taken for a later import's.
CREATE TABLE vuln_generations (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ecosystem TEXT    NOT NULL,
    state     TEXT    NOT NULL CHECK (state IN ('staging', 'committed')),
    records   INTEGER NOT NULL DEFAULT 0,
    source    TEXT    NOT NULL,
    loaded_at INTEGER NOT NULL
);

-- Each ecosystem's current generation. UNIQUE (generation): lookups go
-- from a package's row to its generation's ecosystem.
CREATE TABLE vuln_ecosystems (
    ecosystem  TEXT    PRIMARY KEY,
    generation INTEGER NOT NULL UNIQUE REFERENCES vuln_generations (id)
);

-- The records, in package vulndb's encoding (deflated OSV JSON).
CREATE TABLE vuln_records (
    generation INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    modified   INTEGER,
    data       BLOB    NOT NULL,
    PRIMARY KEY (generation, id)
);

-- The packages each record affects, by ecosystem with its release and
-- name: what a scan looks up, one seek per package.
CREATE TABLE vuln_packages (
    ecosystem  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    generation INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    PRIMARY KEY (ecosystem, name, generation, id)
) WITHOUT ROWID;

-- Pruning removes a generation's packages.
CREATE INDEX vuln_packages_generation ON vuln_packages (generation);

-- One row: the version a scanner compares, raised by every import.
CREATE TABLE vuln_version (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    version    INTEGER NOT NULL,
    changed_at INTEGER
);
INSERT INTO vuln_version (one, version) VALUES (1, 0);
