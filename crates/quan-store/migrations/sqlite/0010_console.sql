-- Short links for SMS (article 004's 淘短链): a few characters under quan's own address that
-- stand for a signed claim link until it expires.
CREATE TABLE short_links (
    code        TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    link        TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
-- The console's dashboard counts a period's claims, claim codes and redemptions.
CREATE INDEX coupons_claimed_at ON coupons (claimed_at);
CREATE INDEX claim_codes_created_at ON claim_codes (created_at);
CREATE INDEX coupon_ledger_at ON coupon_ledger (at);
