-- The access-request status list: `accessRequestId sw` and `accountActivityItemId sw` compare
-- lower(id) as a range, served by this index (the other filters and sorters have theirs in 0006).
-- The `name` sorter reads item_name, which uses the "C" collation (byte order) like every text
-- column that sorters read, so both engines sort alike whatever the database's collation (0004).
create index access_request_tenant_lower_id on access_request (tenant_id, lower(id));
alter table access_request alter column item_name type text collate "C";
