-- ECR Public: custom registry aliases (one per account, each alias
-- unique), and the fixed-window counters of anonymous pulls per source
-- address that the public host's rate limit shares between nodes.
CREATE TABLE public_aliases (
    alias      TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL UNIQUE,
    created_at INTEGER
) WITHOUT ROWID;

CREATE TABLE public_pull_counts (
    key   TEXT    NOT NULL,
    win   INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, win)
) WITHOUT ROWID;

CREATE INDEX public_pull_counts_win ON public_pull_counts (win);
