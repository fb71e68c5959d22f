//! API tests: the real router, store and auth, driven in-process (no socket).
//!
//! Every test runs on SQLite; with `GATEHOUSE_TEST_BACKEND=postgres` and `GATEHOUSE_TEST_PG_URL`
//! set, the same tests run on PostgreSQL, each against a database of its own.

mod access_request_approvals;
mod access_request_config;
mod access_request_lifecycle;
mod access_request_status;
mod access_requests;
mod admin;
mod approval_fixtures;
mod auth;
mod catalog_access;
mod catalog_fixtures;
mod catalog_identities;
mod catalog_sources;
mod cross_tenant;
mod desk_faults_at_scale;
mod docs;
mod durability;
mod hostile_desk;
mod input_limits;
mod installed_integrations;
mod mass_assignment;
mod notifications;
mod oauth_clients;
mod pats;
mod route_matrix;
mod routing;
mod schema_rules;
mod service_desk;
mod service_desk_secrets;
mod service_desk_tickets;
mod spec_shape;
mod ssrf;
mod support;
mod task_status;
mod tenant_data;
mod webhook_auth;
mod work_items;
