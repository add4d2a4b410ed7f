-- ECR Public: custom registry aliases (one per account, each alias
-- unique), and the fixed-window counters of anonymous pulls per source
-- address that the public host's rate limit shares between nodes.
CREATE TABLE public_aliases (
    alias      text COLLATE "C" PRIMARY KEY,
    account    text COLLATE "C" NOT NULL UNIQUE,
    created_at timestamptz
);

CREATE TABLE public_pull_counts (
    key   text   NOT NULL,
    win   bigint NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (key, win)
);

CREATE INDEX public_pull_counts_win ON public_pull_counts (win);
