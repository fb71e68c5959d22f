-- Installed integrations (the OpsRamp-style API under /api/v2/tenants/{tenantId}/integrations, ADR
-- 0008): an installed integration is a service_desk_integration row, so both APIs read and write
-- the same row. These columns hold what only the installed view shows:
--   inbound_auth_type        NONE, WEBHOOK or OAUTH2: how the desk authenticates when it calls in;
--   inbound_token_hash       WEBHOOK: lower-case hex SHA-256 of the token (the token is shown once);
--   inbound_client_id        OAUTH2: the OAuth client issued for the desk (set null if that client is
--                            deleted through /oauth-clients: then nobody can call in);
--   inbound_map_attributes   JSON array of mapAttributes for what the desk sends;
--   outbound_map_attributes  JSON array of mapAttributes for what Gatehouse sends;
--   notifier_type            REST_API when installed through this API; null when created through
--                            /service-desk-integrations.
alter table service_desk_integration add column inbound_auth_type text not null default 'NONE';
alter table service_desk_integration add column inbound_token_hash text;
alter table service_desk_integration add column inbound_client_id text references oauth_client(id) on delete set null;
alter table service_desk_integration add column inbound_map_attributes text not null default '[]';
alter table service_desk_integration add column outbound_map_attributes text not null default '[]';
alter table service_desk_integration add column notifier_type text;
create index service_desk_integration_inbound_client on service_desk_integration (inbound_client_id);
