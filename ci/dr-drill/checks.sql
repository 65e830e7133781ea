-- The drill's data checks, run in the restored database. Each line of output is
-- `name value`; a line starting with check_failed fails the drill. The applications write a
-- row to gatehouse_dr.heartbeat every minute: its newest row bounds the data lost (RPO).
SELECT 'newest_heartbeat_epoch', extract(epoch FROM max(written_at)) FROM gatehouse_dr.heartbeat;
SELECT 'tables', count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema');
SELECT CASE WHEN count(*) > 0 THEN 'heartbeat_rows' ELSE 'check_failed heartbeat_rows' END, count(*) FROM gatehouse_dr.heartbeat;
SELECT CASE WHEN pg_is_in_recovery() THEN 'check_failed still_in_recovery' ELSE 'promoted' END, pg_is_in_recovery();
