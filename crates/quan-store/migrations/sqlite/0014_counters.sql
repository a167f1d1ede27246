-- Daily counters (docs/DOMAIN.md section 9): reports read these, never the coupons. They are
-- kept by the same transactions as claims, grants, redemptions and refunds, and
-- `quan report rebuild` recomputes them from the two ledgers below.

-- The campaign whose grant (or guide task) made a coupon.
ALTER TABLE coupons ADD COLUMN campaign_id TEXT;
UPDATE coupons SET campaign_id = m.campaign_id
  FROM (SELECT j.value AS coupon_id, e.campaign_id FROM campaign_entries e, json_each(e.coupon_ids) j
         WHERE e.coupon_ids IS NOT NULL) AS m
 WHERE coupons.id = m.coupon_id;
UPDATE coupons SET campaign_id = t.campaign_id FROM tasks t WHERE t.coupon_id = coupons.id;
-- A campaign's coupons, for its slices by member (coupons outside campaigns are not indexed).
CREATE INDEX coupons_campaign ON coupons (campaign_id) WHERE campaign_id IS NOT NULL;

-- What an entry changed of the money its coupon gave, minor units: its discount when redeemed,
-- less what refunds take back. (Entries written before this migration carry 0, except a
-- redemption at a store counter, whose discount the coupon kept.)
ALTER TABLE coupon_ledger ADD COLUMN given BIGINT NOT NULL DEFAULT 0;
UPDATE coupon_ledger SET given = c.discount FROM coupons c
 WHERE c.id = coupon_ledger.coupon_id AND coupon_ledger.event = 'redeemed'
   AND c.discount IS NOT NULL AND c.status = 'redeemed';

-- The orders that used coupons, per template and per campaign: +1 and what the member paid
-- when paid (or redeemed at a store counter), then what refunds take back (-1 when no coupon of
-- that template or campaign is still used in it).
CREATE TABLE sales_ledger (
    seq      INTEGER PRIMARY KEY,
    order_id TEXT NOT NULL,
    kind     TEXT NOT NULL,                 -- template | campaign
    key      TEXT NOT NULL,
    at       BIGINT NOT NULL,
    orders   BIGINT NOT NULL,
    gmv      BIGINT NOT NULL
);
CREATE INDEX sales_ledger_order ON sales_ledger (order_id, kind, key);

-- Per coupon template, campaign ('' none), store ('' platform), claim route and tenant-local
-- day: coupons claimed (or granted), redeemed, and given back (their redemption undone by a refund), and
-- the money they gave net of refunds.
CREATE TABLE coupon_counts (
    template_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    store_id    TEXT NOT NULL,
    route       TEXT NOT NULL,
    day         BIGINT NOT NULL,
    claimed     BIGINT NOT NULL,
    used        BIGINT NOT NULL,
    returned    BIGINT NOT NULL,
    given       BIGINT NOT NULL,
    PRIMARY KEY (template_id, campaign_id, store_id, route, day)
);
CREATE INDEX coupon_counts_campaign ON coupon_counts (campaign_id, day);

-- Per template or campaign and tenant-local day, what the sales ledger adds up to.
CREATE TABLE sales_counts (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    day    BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    gmv    BIGINT NOT NULL,
    PRIMARY KEY (kind, key, day)
);

-- Opens of campaign messages' claim links (the claim page read with the link), per
-- tenant-local day: a campaign's funnel between messages delivered and coupons claimed.
CREATE TABLE link_opens (
    campaign_id TEXT NOT NULL,
    day         BIGINT NOT NULL,
    opens       BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, day)
);
