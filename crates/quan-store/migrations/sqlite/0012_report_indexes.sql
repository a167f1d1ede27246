-- A report of some templates (a merchant's dashboard) reads their activity by template and
-- time, so its cost follows those templates, not every store's.
CREATE INDEX coupons_template_claimed ON coupons (template_id, claimed_at);
CREATE INDEX claim_codes_template_created ON claim_codes (template_id, created_at);
CREATE INDEX coupon_ledger_template_at ON coupon_ledger (template_id, at);
