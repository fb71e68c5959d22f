//! `/service-desk-integrations/types`, `/templates/{scriptName}` and
//! `/status-check-configuration`: the service desks Gatehouse provisions to, what an integration
//! of each needs, and how the tenant's queued tickets are polled.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::wire::service_desk::{
    QueuedCheckConfigDetails, ServiceDeskIntegrationTemplateDto, ServiceDeskIntegrationTemplateType,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use gatehouse_domain::service_desk::IntegrationType;
use gatehouse_store::service_desk;
use serde_json::Value;

/// `GET /service-desk-integrations/types` (`getServiceDeskIntegrationTypes`).
pub async fn get_service_desk_integration_types(
    _caller: Caller,
) -> Json<Vec<ServiceDeskIntegrationTemplateType>> {
    Json(IntegrationType::all().iter().map(Into::into).collect())
}

/// `GET /service-desk-integrations/templates/{scriptName}` (`getServiceDeskIntegrationTemplate`).
pub async fn get_service_desk_integration_template(
    _caller: Caller,
    Path(script_name): Path<String>,
) -> Result<Json<ServiceDeskIntegrationTemplateDto>, ApiError> {
    IntegrationType::by_script_name(&script_name)
        .map(|t| Json(t.into()))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "There is no service desk integration template '{script_name}'; see /service-desk-integrations/types."
            ))
        })
}

/// `GET /service-desk-integrations/status-check-configuration` (`getStatusCheckDetails`): the
/// tenant's values, or SailPoint's defaults (30 minutes, 2 days) until set.
pub async fn get_status_check_details(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<QueuedCheckConfigDetails>, ApiError> {
    let tenant = caller.tenant().to_owned();
    let check = state
        .store()
        .read(move |c| service_desk::status_check(c, &tenant))
        .await?;
    Ok(Json(check.into()))
}

/// `PUT /service-desk-integrations/status-check-configuration` (`updateStatusCheckDetails`).
pub async fn update_status_check_details(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<QueuedCheckConfigDetails>, ApiError> {
    let check = QueuedCheckConfigDetails::parse(&body)?;
    let tenant = caller.tenant().to_owned();
    let now = state.clock().now();
    state
        .store()
        .write(move |c| service_desk::put_status_check(c, &tenant, &check, now))
        .await?;
    Ok(Json(check.into()))
}
