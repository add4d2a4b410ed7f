-- The outbox: background work a change asks for, written in the change's own
-- transaction and claimed by workers on any node with a lease.
--
-- AUTOINCREMENT so that an id is never reused once its job is pruned: a
-- consumer may remember ids it has seen.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    queue       TEXT    NOT NULL,
    key         TEXT    NOT NULL DEFAULT '',
    payload     BLOB,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- 0 for a job that may run at once, so that the claiming index compares
    -- integers and no NULL needs a case of its own.
    run_after   INTEGER NOT NULL DEFAULT 0,
    holder      TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER
);

-- Claiming: a queue's pending jobs in the order they become ready, and its
-- running jobs (few: one per busy worker) to find lapsed leases. Finished
-- jobs, the bulk of the table until pruned, sit in ranges no claim reads.
CREATE INDEX jobs_ready ON jobs (queue, state, run_after);

-- A key is unique among a queue's unfinished jobs only: a finished job
-- frees it for the next change that asks for the same work.
CREATE UNIQUE INDEX jobs_key ON jobs (queue, key)
    WHERE key <> '' AND state IN ('pending', 'running');

-- Pruning walks the finished jobs by age.
CREATE INDEX jobs_finished ON jobs (finished_at)
    WHERE state IN ('succeeded', 'failed');
