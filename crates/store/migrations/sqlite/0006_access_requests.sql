-- Access requests and their approvals.
--
-- One `access_request` row per requested item for one identity: it is the identity request that
-- SailPoint calls the account activity (`accessRequestId`, `accountActivityItemId` and the status
-- entry's `id` are all this row's id). `stage` is where the engine is with it; `state` is what
-- `listAccessRequestStatus` reports. One `approval` row per approval step; it is also the work
-- item of type Approval that its owner decides.

create table access_request (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    request_type text not null check (request_type in ('GRANT_ACCESS', 'REVOKE_ACCESS', 'MODIFY_ACCESS')),
    requester_id text not null,
    requested_for_id text not null references identity(id) on delete cascade,
    item_type text not null check (item_type in ('ROLE', 'ACCESS_PROFILE', 'ENTITLEMENT')),
    item_id text not null,
    item_name text not null,
    item_description text,
    source_id text,
    comment text,
    client_metadata text,
    request_metadata text,
    start_date integer,
    remove_date integer,
    assignment_id text,
    native_identity text,
    account_selection text,
    state text not null,
    stage text not null check (stage in ('QUEUED', 'APPROVAL', 'SCHEDULED', 'PROVISIONING', 'TICKET', 'DONE')),
    step integer not null default 0,
    error_messages text,
    cancel_comment text,
    cancelled_by text,
    cancelled_at integer,
    created integer not null,
    modified integer not null,
    completed integer
);
-- List indexes end in id: lists order by (column, id), so a page, a count or a deep offset walks the
-- index instead of sorting every row of the tenant.
create index access_request_tenant_created on access_request (tenant_id, created, id);
create index access_request_tenant_modified on access_request (tenant_id, modified, id);
create index access_request_tenant_name on access_request (tenant_id, item_name, id);
create index access_request_for on access_request (requested_for_id, created, id);
create index access_request_requester on access_request (tenant_id, requester_id, created, id);
create index access_request_item on access_request (requested_for_id, item_type, item_id, stage);
create index access_request_tenant_state on access_request (tenant_id, state, created, id);

create table approval (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    access_request_id text not null references access_request(id) on delete cascade,
    step integer not null,
    scheme text not null,
    owner_type text not null check (owner_type in ('IDENTITY', 'GOVERNANCE_GROUP')),
    owner_id text not null,
    original_owner_id text not null,
    status text not null check (status in ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED')),
    comment text,
    decided_by text,
    decided_at integer,
    forward_history text not null default '[]',
    reminders_sent integer not null default 0,
    escalated boolean not null default false,
    created integer not null,
    modified integer not null
);
create index approval_request on approval (access_request_id, step);
create index approval_owner on approval (tenant_id, owner_id, status, created, id);
create index approval_tenant_status on approval (tenant_id, status, created, id);
create index approval_tenant_modified on approval (tenant_id, modified, id);

-- Messages for people (a forwarded work item, a reminder, an escalation); sent by SMTP when configured.
create table notification (
    id text primary key,
    tenant_id text not null references tenant(id) on delete cascade,
    recipient_id text not null,
    kind text not null,
    subject text not null,
    body text not null,
    created integer not null,
    sent integer
);
create index notification_recipient on notification (tenant_id, recipient_id, created);

-- The first answer to a request sent with an `Idempotency-Key`, replayed to retries.
create table idempotency_key (
    tenant_id text not null references tenant(id) on delete cascade,
    caller text not null,
    key text not null,
    fingerprint text not null,
    status integer not null,
    body text not null,
    created integer not null,
    primary key (tenant_id, caller, key)
);
