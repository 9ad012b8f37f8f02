-- Recipients who can act (LGPD art. 18 §6): an endpoint may be tied to a
-- recipient of the data map's shared_with and may opt in to receive the
-- identifiers the request was made with (and a correction's new values), so a
-- bank or partner agency that never saw the subject reference can repeat the
-- change.
--
-- private_enc holds those identifiers and values sealed with AES-256-GCM
-- under a key derived from the tenant's export key (never in plain text at
-- rest); it is written only when some endpoint opted in, and cleared once
-- every delivery of the event is DELIVERED.
ALTER TABLE lgpd_outbox ADD COLUMN private_enc BLOB NULL;

-- Which recipient an endpoint stood for and which identifier KINDS (never
-- values) the delivery carries, comma-separated, for the DPO's listing.
ALTER TABLE lgpd_outbox_deliveries
  ADD COLUMN recipient        VARCHAR(100) NULL,
  ADD COLUMN identifiers_sent VARCHAR(100) NULL;
