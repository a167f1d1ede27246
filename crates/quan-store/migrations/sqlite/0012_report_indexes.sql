-- A report of some templates (a merchant's dashboard) reads their claim codes by template and
-- time, so its cost follows those templates' codes, not every store's (a print run makes
-- millions). Coupons and ledger entries are read by time: an index by template on those would
-- be kept up by every claim, and PostgreSQL would be free to read a hot template's every
-- coupon through it when a claim batch counts its users' claims.
CREATE INDEX claim_codes_template_created ON claim_codes (template_id, created_at);
