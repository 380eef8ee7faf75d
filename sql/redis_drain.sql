-- redis_drain.sql: drain a Redis stream into a SQLite table, exactly once.
--
-- A producer appends $DRAIN_N events to a stream; consumers of the group
-- `drain` move them into the local table `events` with
--   INSERT OR IGNORE INTO events SELECT id, ... FROM <group consumer>
-- Delivery from a group is at least once (an entry read but not acknowledged
-- comes again), so the stream id is the table's primary key and OR IGNORE
-- drops a second delivery: the table ends with every event exactly once.
-- Three things go wrong on the way, on purpose:
--   1. a consumer reads 300 events in a transaction that rolls back: they stay
--      pending (unacknowledged) and another consumer claims them;
--   2. a "previous run" stored the first 100 events and died before
--      acknowledging them: they are delivered again and ignored;
--   3. a second full drain finds nothing left.
--
--   make stack-up && eval "$(make stack-env)"
--   scripts/run-sql.sh sql/redis_drain.sql          # REDIS_URL from the environment
--   DRAIN_N=100000 scripts/run-sql.sh sql/redis_drain.sql
-- Output: `drained|<rows>` and `check|<what>|1` rows (0 = wrong). The key
-- $DRAIN_KEY is deleted first.
--
-- @default DRAIN_N=10000
-- @default DRAIN_KEY=bz:sql:drain
.bail on
.mode list
.headers off

CREATE VIRTUAL TABLE ev USING redis_stream(url='${REDIS_URL}', key='${DRAIN_KEY}',
                                           columns='kind TEXT, n INTEGER');
-- consumer c1 claims entries other consumers left pending for over 1 ms
CREATE VIRTUAL TABLE feed1 USING redis_stream(url='${REDIS_URL}', key='${DRAIN_KEY}',
    group='drain', consumer='c1', claim_idle_ms=1, columns='kind TEXT, n INTEGER');
CREATE VIRTUAL TABLE feed2 USING redis_stream(url='${REDIS_URL}', key='${DRAIN_KEY}',
    group='drain', consumer='c2', claim_idle_ms=0, columns='kind TEXT, n INTEGER');
CREATE TABLE events(id TEXT PRIMARY KEY, kind TEXT, n INTEGER NOT NULL UNIQUE);

-- a fresh stream (and group)
SELECT 'reset', redis_command('${REDIS_URL}', 'DEL', '${DRAIN_KEY}') >= 0;
SELECT 'group', redis_command('${REDIS_URL}', 'XGROUP', 'CREATE', '${DRAIN_KEY}', 'drain', '0', 'MKSTREAM') = 'OK';

-- the producer: one XADD per event, sent at COMMIT in one MULTI/EXEC
INSERT INTO ev(kind, n)
SELECT CASE value % 3 WHEN 0 THEN 'click' WHEN 1 THEN 'view' ELSE 'buy' END, value
FROM generate_series(1, ${DRAIN_N});
SELECT 'check', 'stream length', redis_command('${REDIS_URL}', 'XLEN', '${DRAIN_KEY}') = ${DRAIN_N};

-- 1. c2 reads 300 and rolls back: nothing stored, the 300 stay pending for c2
--    (with the entries c2 read ahead for its next statement: up to 300 more: min(LIMIT, 500))
BEGIN;
DELETE FROM feed2 WHERE 0;  -- enlist feed2 in this transaction
INSERT OR IGNORE INTO events SELECT id, kind, n FROM feed2 LIMIT 300;
ROLLBACK;
SELECT 'check', 'rolled back: nothing stored', count(*) = 0 FROM events;
SELECT 'check', '300 (+ read-ahead) pending after the rollback',
       redis_command('${REDIS_URL}', 'XPENDING', '${DRAIN_KEY}', 'drain') ->> '$[0]' BETWEEN 300 AND 600;

-- 2. a previous run stored the first 100 events but never acknowledged them
INSERT INTO events SELECT id, kind, n FROM ev ORDER BY id LIMIT 100;

-- 3. c1 drains everything: c2's 300 pending (claimed), then the rest; the
--    first 100 come again and are ignored
INSERT OR IGNORE INTO events SELECT id, kind, n FROM feed1;
SELECT 'drained', count(*) FROM events;

-- 4. nothing left: a second drain by either consumer adds no row
INSERT OR IGNORE INTO events SELECT id, kind, n FROM feed1;
INSERT OR IGNORE INTO events SELECT id, kind, n FROM feed2;

SELECT 'check', 'every event exactly once', count(*) = ${DRAIN_N} AND count(DISTINCT n) = ${DRAIN_N}
       AND min(n) = 1 AND max(n) = ${DRAIN_N} AND sum(n) = ${DRAIN_N} * (${DRAIN_N} + 1) / 2 FROM events;
SELECT 'check', 'ids are the stream''s', count(*) = ${DRAIN_N} FROM events JOIN ev USING (id) WHERE ev.n = events.n;
SELECT 'check', 'kinds kept', sum(kind = 'click') = ${DRAIN_N} / 3 FROM events;
SELECT 'check', 'nothing pending',
       redis_command('${REDIS_URL}', 'XPENDING', '${DRAIN_KEY}', 'drain') ->> '$[0]' = 0;
SELECT 'cleanup', redis_command('${REDIS_URL}', 'DEL', '${DRAIN_KEY}') = 1;
