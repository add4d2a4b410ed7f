-- Vulnerability data for image scanning: OSV records per ecosystem (see
-- meta/vulndb.go). An import writes each ecosystem it replaces as a new
-- generation, in batches that lookups do not see, and then points
-- vuln_ecosystems at the new generations in one transaction. Lookups read
-- only the generations vuln_ecosystems names.
CREATE TABLE vuln_generations (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ecosystem text COLLATE "C" NOT NULL,
    state     text NOT NULL CHECK (state IN ('staging', 'committed')),
    records   integer NOT NULL DEFAULT 0,
    source    text NOT NULL,
    loaded_at timestamptz NOT NULL
);

-- Each ecosystem's current generation. UNIQUE (generation): lookups go
-- from a package's row to its generation's ecosystem.
CREATE TABLE vuln_ecosystems (
    ecosystem  text COLLATE "C" PRIMARY KEY,
    generation bigint NOT NULL UNIQUE REFERENCES vuln_generations (id)
);

-- The records, in package vulndb's encoding (deflated OSV JSON): EXTERNAL
-- storage, since TOAST's own compression would gain nothing on them.
CREATE TABLE vuln_records (
    generation bigint NOT NULL,
    id         text COLLATE "C" NOT NULL,
    modified   timestamptz,
    data       bytea NOT NULL,
    PRIMARY KEY (generation, id)
);
ALTER TABLE vuln_records ALTER COLUMN data SET STORAGE EXTERNAL;

-- The packages each record affects, by ecosystem with its release and
-- name: what a scan looks up, one index seek per package.
CREATE TABLE vuln_packages (
    ecosystem  text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    generation bigint NOT NULL,
    id         text COLLATE "C" NOT NULL,
    PRIMARY KEY (ecosystem, name, generation, id)
);

-- Pruning removes a generation's packages.
CREATE INDEX vuln_packages_generation ON vuln_packages (generation);

-- One row: the version a scanner compares, raised by every import.
CREATE TABLE vuln_version (
    one        integer PRIMARY KEY CHECK (one = 1),
    version    bigint NOT NULL,
    changed_at timestamptz
);
INSERT INTO vuln_version (one, version) VALUES (1, 0);
