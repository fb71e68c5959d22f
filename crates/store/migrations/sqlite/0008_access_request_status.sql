-- The access-request status list: `accessRequestId sw` and `accountActivityItemId sw` compare
-- lower(id) as a range, served by this index (the other filters and sorters have theirs in 0006).
create index access_request_tenant_lower_id on access_request (tenant_id, lower(id));
