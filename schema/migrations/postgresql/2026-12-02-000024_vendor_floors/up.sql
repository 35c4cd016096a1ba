-- RFC 4108 stale versions as lasting floors (issue 14, item 2): once the
-- registry accepts a firmware package signing "versions at or below S are
-- stale", the component's vendor floor is (S+1).0.0.
ALTER TABLE components ADD COLUMN vendor_floor TEXT;
