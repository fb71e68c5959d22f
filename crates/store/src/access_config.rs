//! The tenant's access-request configuration (a setting document; SailPoint's defaults until set).

use crate::{settings, Conn, StoreError};
use gatehouse_domain::access_config::AccessRequestConfig;
use gatehouse_domain::Timestamp;

/// The setting name the configuration is kept under.
pub const SETTING: &str = "access_request_config";

/// The configuration of `tenant_id`, or the defaults when it was never set.
pub fn load(c: &mut dyn Conn, tenant_id: &str) -> Result<AccessRequestConfig, StoreError> {
    match settings::get(c, tenant_id, SETTING)? {
        Some(v) => serde_json::from_value(v)
            .map_err(|e| StoreError::Decode(format!("access request configuration: {e}"))),
        None => Ok(AccessRequestConfig::default()),
    }
}

/// Replaces the configuration of `tenant_id`.
pub fn save(
    c: &mut dyn Conn,
    tenant_id: &str,
    config: &AccessRequestConfig,
    now: Timestamp,
) -> Result<(), StoreError> {
    let v = serde_json::to_value(config)
        .map_err(|e| StoreError::Decode(format!("access request configuration: {e}")))?;
    settings::put(c, tenant_id, SETTING, &v, now)
}
