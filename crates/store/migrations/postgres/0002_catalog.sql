-- The directory and the access catalog: who people are, what can be requested, and who holds what.
-- Core fields that lists filter, sort or join on are columns (each with an index behind its filters);
-- the rest of SailPoint's shape is kept in `document` (JSON text). Dates are bigint milliseconds.

alter table identity add column alias text;
alter table identity add column first_name text;
alter table identity add column last_name text;
alter table identity add column manager_id text references identity(id) on delete set null;
alter table identity add column lifecycle_state text;
alter table identity add column cloud_status text;
alter table identity add column processing_state text;
alter table identity add column correlated boolean not null default true;
alter table identity add column is_protected boolean not null default false;
alter table identity add column attributes text not null default '{}';
create index identity_tenant_alias on identity (tenant_id, alias);
create index identity_tenant_email on identity (tenant_id, email);
create index identity_tenant_first_name on identity (tenant_id, first_name);
create index identity_tenant_last_name on identity (tenant_id, last_name);
create index identity_manager on identity (manager_id);

create table managed_cluster (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    type text not null,
    description text,
    operational boolean not null default true,
    status text not null default 'NORMAL',
    document text not null default '{}',
    created bigint not null,
    modified bigint not null,
    unique (tenant_id, name)
);

create table governance_group (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    description text,
    owner_id text references identity(id),
    created bigint not null,
    modified bigint not null,
    unique (tenant_id, name)
);
create index governance_group_owner on governance_group (owner_id);

create table governance_group_member (
    group_id text not null references governance_group(id) on delete cascade,
    identity_id text not null references identity(id) on delete cascade,
    created bigint not null,
    primary key (group_id, identity_id)
);
create index governance_group_member_identity on governance_group_member (identity_id);

create table source (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    description text,
    type text,
    owner_id text references identity(id),
    cluster_id text references managed_cluster(id),
    management_workgroup_id text references governance_group(id),
    connector text,
    connection_type text,
    authoritative boolean not null default false,
    healthy boolean not null default true,
    status text,
    features text not null default '[]',
    document text not null default '{}',
    created bigint not null,
    modified bigint not null,
    unique (tenant_id, name)
);
create index source_tenant_type on source (tenant_id, type);
create index source_owner on source (owner_id);
create index source_cluster on source (cluster_id);
create index source_tenant_created on source (tenant_id, created);
create index source_tenant_modified on source (tenant_id, modified);

create table entitlement (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    source_id text not null references source(id),
    name text not null,
    attribute text not null,
    value text not null,
    type text,
    description text,
    owner_id text references identity(id),
    requestable boolean not null default true,
    privileged boolean not null default false,
    document text not null default '{}',
    created bigint not null,
    modified bigint not null,
    unique (source_id, attribute, value)
);
create index entitlement_tenant_name on entitlement (tenant_id, name);
create index entitlement_tenant_value on entitlement (tenant_id, value);
create index entitlement_tenant_attribute on entitlement (tenant_id, attribute);
create index entitlement_owner on entitlement (owner_id);
create index entitlement_tenant_created on entitlement (tenant_id, created);
create index entitlement_tenant_modified on entitlement (tenant_id, modified);

create table access_profile (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    description text,
    source_id text not null references source(id),
    owner_id text not null references identity(id),
    enabled boolean not null default true,
    requestable boolean not null default true,
    access_request_config text,
    revocation_request_config text,
    document text not null default '{}',
    created bigint not null,
    modified bigint not null,
    unique (tenant_id, name)
);
create index access_profile_source on access_profile (source_id);
create index access_profile_owner on access_profile (owner_id);
create index access_profile_tenant_created on access_profile (tenant_id, created);
create index access_profile_tenant_modified on access_profile (tenant_id, modified);

create table access_profile_entitlement (
    access_profile_id text not null references access_profile(id) on delete cascade,
    entitlement_id text not null references entitlement(id),
    position bigint not null,
    primary key (access_profile_id, entitlement_id)
);
create index access_profile_entitlement_entitlement on access_profile_entitlement (entitlement_id);

create table role (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    description text,
    owner_id text not null references identity(id),
    enabled boolean not null default true,
    requestable boolean not null default false,
    dimensional boolean not null default false,
    access_request_config text,
    revocation_request_config text,
    document text not null default '{}',
    created bigint not null,
    modified bigint not null,
    unique (tenant_id, name)
);
create index role_owner on role (owner_id);
create index role_tenant_created on role (tenant_id, created);
create index role_tenant_modified on role (tenant_id, modified);

create table role_access_profile (
    role_id text not null references role(id) on delete cascade,
    access_profile_id text not null references access_profile(id),
    position bigint not null,
    primary key (role_id, access_profile_id)
);
create index role_access_profile_access_profile on role_access_profile (access_profile_id);

create table role_entitlement (
    role_id text not null references role(id) on delete cascade,
    entitlement_id text not null references entitlement(id),
    position bigint not null,
    primary key (role_id, entitlement_id)
);
create index role_entitlement_entitlement on role_entitlement (entitlement_id);

create table account (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    source_id text not null references source(id),
    identity_id text references identity(id) on delete set null,
    name text not null,
    native_identity text not null,
    uuid text,
    disabled boolean not null default false,
    locked boolean not null default false,
    manually_correlated boolean not null default false,
    origin text,
    attributes text not null default '{}',
    created bigint not null,
    modified bigint not null,
    unique (source_id, native_identity)
);
create index account_identity on account (identity_id);
create index account_tenant_name on account (tenant_id, name);
create index account_tenant_native_identity on account (tenant_id, native_identity);

-- Who holds which role, access profile or entitlement, and why.
create table assignment (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    identity_id text not null references identity(id) on delete cascade,
    item_type text not null check (item_type in ('ROLE', 'ACCESS_PROFILE', 'ENTITLEMENT')),
    item_id text not null,
    reason text not null check (reason in ('ACCESS_REQUEST', 'ROLE_MEMBERSHIP', 'BIRTHRIGHT', 'IMPORT')),
    access_request_id text,
    account_id text references account(id) on delete set null,
    start_date bigint,
    remove_date bigint,
    created bigint not null,
    modified bigint not null
);
create index assignment_identity on assignment (identity_id, item_type, item_id);
create index assignment_item on assignment (item_type, item_id);
create index assignment_tenant_remove_date on assignment (tenant_id, remove_date);
