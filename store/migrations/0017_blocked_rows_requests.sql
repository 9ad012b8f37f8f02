-- lgpd_blocked_rows also lists the rows a titular's BLOCK request suspends
-- (LGPD art. 18 IV) while the DPO has not lifted it, so the CRM leaves every
-- blocked row out with one anti-join, whatever blocked it. Those rows have
-- no release date (blocked_until NULL): they stay until the block is lifted.
-- Recreated rather than replaced: OR REPLACE would need DROP as well, and
-- DROP VIEW needs only DROP on the view.
DROP VIEW IF EXISTS lgpd_blocked_rows;

CREATE VIEW lgpd_blocked_rows AS
SELECT entity, table_name, row_key,
       JSON_UNQUOTE(JSON_EXTRACT(row_key, '$[0]')) AS row_id,
       basis, reference, release_at AS blocked_until, blocked_at
FROM lgpd_blocks
WHERE released_at IS NULL
UNION ALL
SELECT r.entity, r.table_name, r.row_key,
       JSON_UNQUOTE(JSON_EXTRACT(r.row_key, '$[0]')) AS row_id,
       'pedido_do_titular' AS basis, 'LGPD art. 18, IV (bloqueio a pedido do titular)' AS reference,
       NULL AS blocked_until, b.blocked_at
FROM lgpd_subject_block_rows r
JOIN lgpd_subject_blocks b ON b.request_id = r.request_id
WHERE b.lifted_at IS NULL;
