-- Named snapshots of a tenant's data, for test suites: every row of every tenant-owned table
-- (`tenants::TENANT_TABLES`), kept as JSON arrays of column values in chunks. Snapshots survive a
-- tenant reset and are removed with their tenant.

create table tenant_snapshot (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    schema_version integer not null,
    row_count integer not null,
    created integer not null,
    unique (tenant_id, name)
);

create table tenant_snapshot_chunk (
    snapshot_id text not null references tenant_snapshot(id) on delete cascade,
    table_name text not null,
    seq integer not null,
    columns text not null,
    rows text not null,
    primary key (snapshot_id, table_name, seq)
);
