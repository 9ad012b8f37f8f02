-- Which titular replica runs this tenant's background work (backstop polls,
-- the sweep, checkpoints). Every replica serves every tenant's API and
-- processes the requests it creates; the holder of the 'background' lease
-- also looks for work created elsewhere. A replica renews its lease well
-- before expires_at; when it dies, another takes the lease once it expires.
-- standby is the last other replica that asked for the lease: the holder
-- learns from it which replicas are alive, and hands a tenant over to the
-- replica the fleet's hashing prefers. Times are the database's clock
-- (UTC_TIMESTAMP), so replicas' clocks need not agree.
CREATE TABLE IF NOT EXISTS lgpd_leases (
  name               VARCHAR(40)  NOT NULL,
  holder             VARCHAR(100) NOT NULL,
  expires_at         DATETIME(6)  NOT NULL,
  standby            VARCHAR(100) NOT NULL,
  standby_expires_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT IGNORE INTO lgpd_leases (name, holder, expires_at, standby, standby_expires_at)
VALUES ('background', '', '1970-01-02 00:00:00', '', '1970-01-02 00:00:00');
