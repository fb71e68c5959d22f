-- Foundation: tenants, identities, OAuth clients, personal access tokens, signing keys, settings, jobs.
-- Dates are integer milliseconds since the epoch; JSON is text. Never edit once released: add a new file.

create table tenant (
    id text primary key,
    name text not null unique,
    created integer not null
);

create table identity (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    display_name text,
    email text,
    authorities text not null default '["USER"]',
    created integer not null,
    modified integer not null,
    unique (tenant_id, name)
);

create table oauth_client (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    secret_hash text not null,
    name text not null,
    description text,
    business_name text,
    homepage_url text,
    access_token_validity_seconds integer not null,
    refresh_token_validity_seconds integer not null,
    redirect_uris text not null,
    grant_types text not null,
    access_type text not null,
    client_type text not null,
    internal boolean not null,
    enabled boolean not null,
    strong_auth_supported boolean not null,
    claims_supported boolean not null,
    scope text,
    metadata text,
    created integer not null,
    modified integer not null,
    last_used integer
);
create index oauth_client_tenant_last_used on oauth_client (tenant_id, last_used);

create table personal_access_token (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    owner_id text not null references identity(id) on delete cascade,
    name text not null,
    secret_hash text not null,
    scope text,
    access_token_validity_seconds integer not null,
    expiration_date integer,
    never_expires boolean not null default false,
    managed boolean not null default false,
    created integer not null,
    last_used integer,
    unique (owner_id, name)
);
create index personal_access_token_tenant_owner on personal_access_token (tenant_id, owner_id);
create index personal_access_token_tenant_last_used on personal_access_token (tenant_id, last_used);

create table signing_key (
    id text primary key,
    secret text not null,
    created integer not null
);

create table setting (
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    value text not null,
    modified integer not null,
    primary key (tenant_id, name)
);

create table job (
    id integer primary key autoincrement,
    tenant_id text,
    kind text not null,
    args text not null,
    state text not null default 'available'
        check (state in ('available', 'running', 'completed', 'discarded', 'cancelled')),
    attempt integer not null default 0,
    max_attempts integer not null,
    scheduled_at integer not null,
    locked_by text,
    locked_until integer,
    unique_key text unique,
    errors text not null default '[]',
    created integer not null,
    finalized_at integer,
    check ((state in ('completed', 'discarded', 'cancelled')) = (finalized_at is not null))
);
create index job_ready on job (state, scheduled_at);
