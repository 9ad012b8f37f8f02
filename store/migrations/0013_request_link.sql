-- An open request of the same kind for the same titular when this one was
-- created (the titular asked again while the first still ran): the API
-- returns it as linked_request_id. NULL when there was none.
ALTER TABLE lgpd_requests ADD COLUMN linked_request_id CHAR(36) NULL;
