-- An allocating campaign's entries each carry the template its allocation chose (the one a
-- treatment grants); an entry the allocation gave nothing is recorded as `unallocated`.
ALTER TABLE campaign_entries ADD COLUMN template_id TEXT;
