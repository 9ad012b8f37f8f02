-- The role of the caller who created a request (dpo, backend, titular, ...):
-- what the request's export may hold depends on it (the consent evidence,
-- IP and user agent, goes to the backend only when the tenant allows).
-- NULL for requests recorded before it.
ALTER TABLE lgpd_requests ADD COLUMN created_role VARCHAR(16) NULL;
