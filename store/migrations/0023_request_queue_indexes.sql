-- The DPO's queue and report (issue #18) on a tenant of 100,000 requests:
-- every listing and count reads an index, never the whole table's rows.

-- The queue by due date: open (or one status's) requests, overdue first,
-- keyset-paged on (due_at, id).
CREATE INDEX ix_lgpd_requests_status_due ON lgpd_requests (status, due_at, id);
-- The queue by due date over every status.
CREATE INDEX ix_lgpd_requests_due ON lgpd_requests (due_at, id);
-- Counts by kind and status, with the overdue ones: a covering index scan.
CREATE INDEX ix_lgpd_requests_kind_status_due ON lgpd_requests (kind, status, due_at);
-- Requests received per month and kind: a covering range scan.
CREATE INDEX ix_lgpd_requests_received_kind ON lgpd_requests (received_at, kind);
-- Requests completed per month and kind, against their deadline: a covering
-- range scan on the COMPLETED ones.
CREATE INDEX ix_lgpd_requests_completed ON lgpd_requests (status, completed_at, kind, received_at, due_at);
