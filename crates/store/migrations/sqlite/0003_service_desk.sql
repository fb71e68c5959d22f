-- Service desk integrations (SDIM): where provisioning that has no connector goes, as tickets.
-- `attributes` holds the integration's attributes with every credential replaced by the mask; the
-- credentials are in `secrets` (JSON: attribute pointer -> 'v1:' + base64(nonce, ciphertext)),
-- sealed under a key derived from the master key, which is not in the database.
-- The references (owner, cluster, managed sources) are kept as ids; their names are read by join.

create table service_desk_integration (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    description text not null,
    type text not null,
    owner_id text references identity(id) on delete set null,
    cluster_id text references managed_cluster(id),
    before_provisioning_rule text,
    provisioning_config text not null,
    attributes text not null,
    secrets text not null default '{}',
    created integer not null,
    modified integer not null
);
-- Names are unique per tenant without regard to case; this index also serves `name eq` and the
-- `name` sorter, which compare lower(name).
create unique index service_desk_integration_tenant_name on service_desk_integration (tenant_id, lower(name));
create index service_desk_integration_tenant_type on service_desk_integration (tenant_id, type);
create index service_desk_integration_tenant_cluster on service_desk_integration (tenant_id, cluster_id);
create index service_desk_integration_tenant_created on service_desk_integration (tenant_id, created);
create index service_desk_integration_owner on service_desk_integration (owner_id);

-- The sources an integration manages, in order. A source is managed by at most one integration.
create table service_desk_managed_source (
    integration_id text not null references service_desk_integration(id) on delete cascade,
    source_id text not null unique references source(id) on delete cascade,
    position integer not null,
    primary key (integration_id, source_id)
);
