-- What a request asks beyond its kind and titular (a CONSENT's purpose,
-- action and term; a CORRECT's new values), as a keyed digest (HMAC-SHA256
-- under the tenant's subject key): a request that reuses another's
-- idempotency key for another change is refused instead of being answered
-- with the first. The digest reveals nothing of the values without the key.
-- NULL for requests recorded before it, which keep the old rule (kind and
-- titular).
ALTER TABLE lgpd_requests ADD COLUMN request_digest BINARY(32) NULL;
