-- Service-desk tickets: one per requested item provisioned through a service desk. The row (and
-- its correlation id) is committed before the desk is called, so a retried create can look the
-- ticket up by correlation id first and never opens a second one. `phase`: CREATING until the
-- desk answered with the ticket, OPEN while its status is followed, DONE once Committed or Failed.
-- `check_until` ends polling (opened + provisioningMaxStatusCheckDays); `pending_until` is when the
-- open ticket stops counting as a pending request (noProvisioningRequests /
-- provisioningRequestExpiration; null: while it is open).
create table service_desk_ticket (
    request_id text primary key references access_request(id) on delete cascade,
    tenant_id text not null references tenant(id) on delete cascade,
    integration_id text not null,
    correlation_id text not null,
    phase text not null check (phase in ('CREATING', 'OPEN', 'DONE')),
    status text not null check (status in ('Queued', 'Committed', 'Failed')),
    desk_id text,
    desk_number text,
    desk_status text,
    attempts integer not null default 0,
    last_error text,
    created integer not null,
    opened integer,
    checked integer,
    closed integer,
    check_until integer,
    pending_until integer
);
create unique index service_desk_ticket_correlation on service_desk_ticket (correlation_id);
-- A webhook names the desk's ticket id or number.
create index service_desk_ticket_desk_id on service_desk_ticket (tenant_id, integration_id, desk_id);
create index service_desk_ticket_desk_number on service_desk_ticket (tenant_id, integration_id, desk_number);
