-- Foundation: tenants, identities, OAuth clients, personal access tokens, signing keys, settings, jobs.
-- Dates are bigint milliseconds since the epoch; JSON is text. Never edit once released: add a new file.

create table tenant (
    id text primary key,
    name text not null unique,
    created bigint not null
);

create table identity (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    display_name text,
    email text,
    authorities text not null default '["USER"]',
    created bigint not null,
    modified bigint not null,
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
    access_token_validity_seconds bigint not null,
    refresh_token_validity_seconds bigint not null,
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
    created bigint not null,
    modified bigint not null,
    last_used bigint
);
create index oauth_client_tenant_last_used on oauth_client (tenant_id, last_used);

create table personal_access_token (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    owner_id text not null references identity(id) on delete cascade,
    name text not null,
    secret_hash text not null,
    scope text,
    access_token_validity_seconds bigint not null,
    expiration_date bigint,
    never_expires boolean not null default false,
    managed boolean not null default false,
    created bigint not null,
    last_used bigint,
    unique (owner_id, name)
);
create index personal_access_token_tenant_owner on personal_access_token (tenant_id, owner_id);
create index personal_access_token_tenant_last_used on personal_access_token (tenant_id, last_used);

create table signing_key (
    id text primary key,
    secret text not null,
    created bigint not null
);

create table setting (
    tenant_id text not null references tenant(id) on delete cascade,
    name text not null,
    value text not null,
    modified bigint not null,
    primary key (tenant_id, name)
);

create table job (
    id bigserial primary key,
    tenant_id text,
    kind text not null,
    args text not null,
    state text not null default 'available'
        check (state in ('available', 'running', 'completed', 'discarded', 'cancelled')),
    attempt bigint not null default 0,
    max_attempts bigint not null,
    scheduled_at bigint not null,
    locked_by text,
    locked_until bigint,
    unique_key text unique,
    errors text not null default '[]',
    created bigint not null,
    finalized_at bigint,
    check ((state in ('completed', 'discarded', 'cancelled')) = (finalized_at is not null))
);
create index job_ready on job (state, scheduled_at);
