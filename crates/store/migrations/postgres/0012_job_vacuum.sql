-- The job table churns: every job row is updated at least twice (claimed, then completed), and
-- each update leaves a dead row version and dead index entries behind. With PostgreSQL's default
-- thresholds (20 % of the table) autovacuum waits for hundreds of thousands of dead versions on a
-- busy queue, and every claim walks the dead entries of `job_ready` meanwhile (measured: 56k dead
-- versions against 37k live, claims of 20 ms and more). Vacuum it after a fixed number of changes
-- instead, without the cost-based pauses, and keep its statistics as fresh.
alter table job set (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 5000,
    autovacuum_vacuum_cost_delay = 0
);
