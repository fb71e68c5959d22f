//! `AccessRequest` (the submit body) and `AccessRequestResponse`, as SailPoint names them.
//!
//! The body types are lenient on purpose: every field is optional here so that a missing or
//! wrongly shaped field is refused by the handler with a message naming the rule, not by serde.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `AccessRequestItem` / `RequestedItemDtoRef`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestItem {
    /// ACCESS_PROFILE, ROLE or ENTITLEMENT.
    #[serde(rename = "type")]
    pub item_type: Option<String>,
    /// The item's id.
    pub id: Option<String>,
    /// Requester's comment.
    pub comment: Option<String>,
    /// Arbitrary key-value pairs (string values).
    pub client_metadata: Option<Value>,
    /// Sunrise (RFC 3339, UTC).
    pub start_date: Option<String>,
    /// Sunset (RFC 3339, UTC).
    pub remove_date: Option<String>,
    /// REVOKE: the assignment to revoke.
    pub assignment_id: Option<String>,
    /// REVOKE: the account to revoke on.
    pub native_identity: Option<String>,
    /// v1: a form instance.
    pub form_instance_id: Option<String>,
    /// `requestedForWithRequestedItems` only: which accounts.
    pub account_selection: Option<Value>,
}

/// `RequestedForDtoRef`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedForDtoRef {
    /// The identity.
    pub identity_id: Option<String>,
    /// Its items.
    pub requested_items: Option<Vec<AccessRequestItem>>,
    /// v1: HUMAN or MACHINE.
    pub identity_type: Option<String>,
}

/// `AccessRequest`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequest {
    /// Identity ids.
    pub requested_for: Option<Vec<String>>,
    /// GRANT_ACCESS (default), REVOKE_ACCESS or MODIFY_ACCESS.
    pub request_type: Option<String>,
    /// The items.
    pub requested_items: Option<Vec<AccessRequestItem>>,
    /// Arbitrary key-value pairs (string values).
    pub client_metadata: Option<Value>,
    /// The per-identity alternative to `requestedFor` + `requestedItems`.
    pub requested_for_with_requested_items: Option<Vec<RequestedForDtoRef>>,
}

/// `RequestedItemDetails`.
#[derive(Clone, Debug, Serialize)]
pub struct RequestedItemDetails {
    /// Item type.
    #[serde(rename = "type")]
    pub item_type: String,
    /// Item id.
    pub id: String,
}

/// `AccessRequestTracking`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestTracking {
    /// The identity.
    pub requested_for: String,
    /// What was requested for it.
    pub requested_items_details: Vec<RequestedItemDetails>,
    /// A stable hash of the identity and items.
    pub attributes_hash: i32,
    /// The request ids.
    pub access_request_ids: Vec<String>,
}

/// `AccessRequestResponse`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestResponse {
    /// Requests created by this submission.
    pub new_requests: Vec<AccessRequestTracking>,
    /// Items already pending or held.
    pub existing_requests: Vec<AccessRequestTracking>,
}
