-- Task status: every job is also a TaskStatus. What a task shows that the queue did not keep: when
-- it first ran, who caused it, and what it is about. Indexes behind the task-status list (newest
-- first within a tenant, and pending tasks).
alter table job add column launched integer;
alter table job add column launcher text;
alter table job add column target_type text;
alter table job add column target_id text;
create index job_tenant_created on job (tenant_id, created, id);
create index job_tenant_state on job (tenant_id, state, created, id);
alter table job add column completion_status text;
