-- Background jobs: large batches of claim codes, made in batches by whichever process holds
-- the job's lease. Times are Unix microseconds (UTC).

CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,        -- time-ordered
    kind          TEXT NOT NULL,           -- claim_codes
    template_id   TEXT NOT NULL REFERENCES templates (id),
    store_id      TEXT,                    -- the template's store (NULL: platform), for merchant scoping
    status        TEXT NOT NULL,           -- running | succeeded | failed
    total         INTEGER NOT NULL,        -- codes asked for
    done          INTEGER NOT NULL DEFAULT 0, -- codes committed, batch by batch
    error_code    TEXT,                    -- when failed
    error_message TEXT,
    lease_owner   TEXT,                    -- while running: the runner that holds the job
    lease_until   INTEGER,                 -- ... until then; a lapsed lease may be taken over
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    CHECK (done >= 0 AND done <= total)
);
CREATE INDEX jobs_lease ON jobs (status, lease_until);

ALTER TABLE claim_codes ADD COLUMN job_id TEXT REFERENCES jobs (id);  -- NULL: made in one call
CREATE INDEX claim_codes_job ON claim_codes (job_id, code) WHERE job_id IS NOT NULL;
