-- Campaigns (domain.md section 8): the definition, its life, its trigger's progress and its
-- counters; the entries of members (one per campaign, member and trigger occurrence, which is
-- what makes a grant happen once); the inbox of events waiting for event campaigns; the tasks
-- of store guides; the outbox of messages.
CREATE TABLE campaigns (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    spec         TEXT NOT NULL,             -- the checked CampaignSpec (JSON)
    status       TEXT NOT NULL,             -- draft | active | paused | ended
    end_reason   TEXT,                      -- operator | ends_at | budget | completed
    trigger_event TEXT,                     -- the event an event campaign waits for
    trigger_at   BIGINT,                   -- the next schedule tick, or when `once` expanded
    entered      BIGINT NOT NULL DEFAULT 0,
    held_out     BIGINT NOT NULL DEFAULT 0,
    treated      BIGINT NOT NULL DEFAULT 0,
    granted      BIGINT NOT NULL DEFAULT 0,
    spent        BIGINT NOT NULL DEFAULT 0, -- face value granted, minor units
    activated_at BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX campaigns_status ON campaigns (status, trigger_event);

CREATE TABLE campaign_entries (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    user_id     TEXT NOT NULL,
    occurrence  TEXT NOT NULL,              -- event:<id> | tick:<time> | since:<time> | once
    status      TEXT NOT NULL,              -- pending | treated | held_out | capped | over_budget | refused | expired
    reason      TEXT,                       -- a refused grant's code
    coupon_ids  TEXT,                       -- JSON array of the coupons granted
    due_at      BIGINT NOT NULL,
    entered_at  BIGINT NOT NULL,
    done_at     BIGINT,
    PRIMARY KEY (campaign_id, user_id, occurrence)
);
CREATE INDEX campaign_entries_due ON campaign_entries (due_at) WHERE status = 'pending';
-- A campaign's due entries in treatment order, read a batch at a time.
CREATE INDEX campaign_entries_pending ON campaign_entries (campaign_id, due_at, user_id, occurrence) WHERE status = 'pending';
CREATE INDEX campaign_entries_status ON campaign_entries (campaign_id, status, user_id);
CREATE INDEX campaign_entries_treated ON campaign_entries (campaign_id, user_id, done_at) WHERE status = 'treated';

CREATE TABLE campaign_inbox (
    event_id    TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX campaign_inbox_created ON campaign_inbox (created_at);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    guide_id    TEXT,                       -- the member's guide when the task was made
    title       TEXT NOT NULL,
    template_id TEXT,                       -- the coupon the guide may grant
    material    TEXT,
    message     TEXT,                       -- the suggested message
    status      TEXT NOT NULL,              -- open | done
    outcome     TEXT,
    coupon_id   TEXT,                       -- the coupon the guide granted
    created_at  BIGINT NOT NULL,
    done_at     BIGINT
);
CREATE INDEX tasks_guide ON tasks (guide_id, status, id);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    campaign_id     TEXT,
    user_id         TEXT NOT NULL,
    channel         TEXT NOT NULL,          -- sms | wechat | app_push | email
    text            TEXT NOT NULL,
    link_template_id TEXT,                  -- carry the member's signed claim link for it
    status          TEXT NOT NULL,          -- pending | sent | dead
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_status ON outbox (status, id);
