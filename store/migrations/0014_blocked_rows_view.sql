-- The CRM's view of the rows titular keeps blocked (LGPD art. 16 I, 18 IV):
-- a held sale, or the buyer's record it references, stays in the CRM's
-- tables until its hold ends, but must no longer be used for marketing,
-- listings or anything but what the hold is for. The CRM leaves them out
-- by anti-joining this view on its own key (README, "Blocked rows"):
--
--   SELECT … FROM reservas r WHERE NOT EXISTS (SELECT 1 FROM lgpd_blocked_rows b
--     WHERE b.table_name = 'reservas' AND b.row_id = r.idreserva)
--
-- row_id is the first key value (the whole key for single-column keys);
-- row_key is the whole key as a JSON array. blocked_until is the release
-- date (the latest of the row's holds). It shows no one's personal data and
-- no subject reference, so the CRM's account needs SELECT on this view
-- alone, not on lgpd_blocks (the view runs with its creator's rights).
CREATE VIEW lgpd_blocked_rows AS
SELECT entity, table_name, row_key,
       JSON_UNQUOTE(JSON_EXTRACT(row_key, '$[0]')) AS row_id,
       basis, reference, release_at AS blocked_until, blocked_at
FROM lgpd_blocks
WHERE released_at IS NULL;
