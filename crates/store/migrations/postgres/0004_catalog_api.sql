-- The catalog API: indexes behind every documented filter and sorter, and the few source fields that
-- lists filter on. Case-insensitive filters compare lower(column) (`eq`, `in`, and `sw` as a range),
-- so their indexes are on lower(column).
--
-- PostgreSQL compares text with the database's collation, under which a prefix is not always the
-- range [prefix, successor) that `sw` uses (punctuation is ignored at the first level). The columns
-- that `sw` and the sorters read use the "C" collation (byte order), as SQLite's BINARY does, so
-- both engines filter and sort alike whatever collation the database was created with.

alter table source add column connector_name text collate "C";
alter table source add column category text collate "C";
-- The service-desk integration that provisions this source, if one does (no foreign key: the
-- integrations live in their own capability's table).
alter table source add column service_desk_integration_id text;
create index source_service_desk_integration on source (service_desk_integration_id);

alter table identity alter column name type text collate "C";
alter table identity alter column alias type text collate "C";
alter table identity alter column email type text collate "C";
alter table identity alter column first_name type text collate "C";
alter table identity alter column last_name type text collate "C";
alter table identity alter column cloud_status type text collate "C";
alter table managed_cluster alter column name type text collate "C";
alter table governance_group alter column name type text collate "C";
alter table governance_group alter column description type text collate "C";
alter table source alter column name type text collate "C";
alter table source alter column type type text collate "C";
alter table source alter column description type text collate "C";
alter table source alter column status type text collate "C";
alter table source alter column connection_type type text collate "C";
alter table entitlement alter column name type text collate "C";
alter table entitlement alter column value type text collate "C";
alter table entitlement alter column attribute type text collate "C";
alter table entitlement alter column type type text collate "C";
alter table access_profile alter column name type text collate "C";
alter table role alter column name type text collate "C";
alter table account alter column name type text collate "C";
alter table account alter column native_identity type text collate "C";

create index identity_tenant_lower_name on identity (tenant_id, lower(name));
create index identity_tenant_lower_alias on identity (tenant_id, lower(alias));
create index identity_tenant_lower_email on identity (tenant_id, lower(email));
create index identity_tenant_lower_first_name on identity (tenant_id, lower(first_name));
create index identity_tenant_lower_last_name on identity (tenant_id, lower(last_name));
create index identity_tenant_cloud_status on identity (tenant_id, cloud_status);
create index identity_tenant_processing_state on identity (tenant_id, processing_state);
create index identity_tenant_correlated on identity (tenant_id, correlated, name);
create index identity_tenant_protected on identity (tenant_id, is_protected);

create index managed_cluster_tenant_lower_name on managed_cluster (tenant_id, lower(name));
create index managed_cluster_tenant_type on managed_cluster (tenant_id, lower(type));
create index managed_cluster_tenant_status on managed_cluster (tenant_id, lower(status));
create index managed_cluster_tenant_operational on managed_cluster (tenant_id, operational);

create index governance_group_tenant_lower_name on governance_group (tenant_id, lower(name));
create index governance_group_tenant_lower_id on governance_group (tenant_id, lower(id));
create index governance_group_tenant_created on governance_group (tenant_id, created);
create index governance_group_tenant_modified on governance_group (tenant_id, modified);

create index source_tenant_lower_name on source (tenant_id, lower(name));
create index source_tenant_lower_id on source (tenant_id, lower(id));
create index source_tenant_lower_type on source (tenant_id, lower(type));
create index source_tenant_lower_description on source (tenant_id, lower(description));
create index source_tenant_lower_status on source (tenant_id, lower(status));
create index source_tenant_lower_connection_type on source (tenant_id, lower(connection_type));
create index source_tenant_lower_connector_name on source (tenant_id, lower(connector_name));
create index source_tenant_lower_category on source (tenant_id, lower(category));
create index source_tenant_authoritative on source (tenant_id, authoritative);
create index source_management_workgroup on source (management_workgroup_id);

create index entitlement_tenant_lower_name on entitlement (tenant_id, lower(name));
create index entitlement_tenant_lower_value on entitlement (tenant_id, lower(value));
create index entitlement_tenant_lower_attribute on entitlement (tenant_id, lower(attribute));
create index entitlement_tenant_lower_type on entitlement (tenant_id, lower(type));
create index entitlement_tenant_requestable on entitlement (tenant_id, requestable);

create index access_profile_tenant_lower_name on access_profile (tenant_id, lower(name));
create index access_profile_tenant_requestable on access_profile (tenant_id, requestable);

create index role_tenant_lower_name on role (tenant_id, lower(name));
create index role_tenant_requestable on role (tenant_id, requestable);
create index role_tenant_dimensional on role (tenant_id, dimensional);

create index account_source on account (source_id);
create index account_tenant_lower_name on account (tenant_id, lower(name));
create index account_tenant_lower_native_identity on account (tenant_id, lower(native_identity));
create index account_tenant_created on account (tenant_id, created);
create index account_tenant_modified on account (tenant_id, modified);
create index account_tenant_origin on account (tenant_id, origin);
create index account_tenant_manually_correlated on account (tenant_id, manually_correlated);

create index assignment_account on assignment (account_id);
