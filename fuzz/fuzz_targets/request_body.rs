//! Fuzz target: request bodies through the API's own deserialisation and validation.
//!
//! The first byte picks the operation, the rest is the body. Each body goes through
//! `extract::json_body` (what the `ApiJson` extractor does once the content type is checked) or
//! the handler's own raw-body reader, then the checks the handler runs before it touches the
//! store:
//! 0. `createAccessRequest`: `access_requests::submission`;
//! 1. approve / reject an access request: `access_request_approvals::comment_body`;
//! 2. `forwardAccessRequest`: `ForwardApprovalDto::fields`;
//! 3. work-item forward: `WorkItemForward::fields`;
//! 4. `createServiceDeskIntegration`: `Draft::parse` + `service_desk::build` (strict network policy);
//! 5. `patchServiceDeskIntegration`: `replace_operations` + `apply_replacements` on a stored
//!    integration's patch document, then `Draft::parse` + `build`;
//! 6. `putServiceDeskIntegration`: `Draft::parse` + `build` over a stored integration;
//! 7. JSON Patch documents: `extract::json_patch` / `json_patch_allowing_null` + `apply_patch`;
//! 8. `QueuedCheckConfigDetails::parse`.
//! Invariants: every refusal is a 4xx (never a 500), and what is accepted satisfies the rules the
//! handler promises (see each `check_*`).

#![no_main]

use axum::body::Bytes;
use axum::http::StatusCode;
use gatehouse_api::error::ApiError;
use gatehouse_api::extract::{apply_patch, json_body, json_patch, json_patch_allowing_null};
use gatehouse_api::handlers::access_request_approvals::{comment_body, ForwardApprovalDto};
use gatehouse_api::handlers::access_requests::submission;
use gatehouse_api::handlers::service_desk::build;
use gatehouse_api::handlers::work_items::WorkItemForward;
use gatehouse_api::wire::service_desk::{
    apply_replacements, replace_operations, Current, Draft, QueuedCheckConfigDetails,
    ServiceDeskIntegrationDto,
};
use gatehouse_domain::net_guard::{check_url, NetPolicy};
use gatehouse_domain::sealed::{Keyring, Sealer};
use gatehouse_domain::service_desk::{IntegrationType, Kind, StatusCheck, MASK, SEAL_PURPOSE};
use gatehouse_domain::Timestamp;
use gatehouse_store::access_requests::submit::NewRequest;
use gatehouse_store::service_desk::Integration;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use std::sync::OnceLock;

const NOW: Timestamp = Timestamp(1_800_000_000_000);
/// The default policy: public addresses only.
fn strict() -> &'static NetPolicy {
    static POLICY: OnceLock<NetPolicy> = OnceLock::new();
    POLICY.get_or_init(NetPolicy::default)
}

fn refused<T>(r: Result<T, ApiError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            let s = e.status();
            assert!(s.is_client_error(), "a body was answered {s}: {e:?}");
            assert_ne!(s, StatusCode::UNAUTHORIZED);
            None
        }
    }
}

fn check_submission(r: &NewRequest) {
    assert!(["GRANT_ACCESS", "REVOKE_ACCESS", "MODIFY_ACCESS"].contains(&r.request_type.as_str()));
    assert_eq!(r.requester_id, "requester-1");
    assert!(!r.requested_for.is_empty());
    let mut pairs = 0;
    for (n, (id, items)) in r.requested_for.iter().enumerate() {
        assert!(!id.is_empty() && id.trim() == id, "identity {id:?}");
        assert!(
            r.requested_for[..n].iter().all(|(other, _)| other != id),
            "{id:?} twice"
        );
        assert!(!items.is_empty());
        pairs += items.len();
        let entitlements = items
            .iter()
            .filter(|i| i.item_type == "ENTITLEMENT")
            .count();
        assert!(entitlements <= 25);
        if entitlements > 0 {
            assert!(r.requested_for.len() <= 10);
        }
        for i in items {
            assert!(["ROLE", "ACCESS_PROFILE", "ENTITLEMENT"].contains(&i.item_type.as_str()));
            assert!(!i.item_id.is_empty() && i.item_id.trim() == i.item_id);
            for d in [i.start_date, i.remove_date].into_iter().flatten() {
                assert!(d > NOW, "a date in the past: {d:?}");
            }
            if let (Some(s), Some(e)) = (i.start_date, i.remove_date) {
                assert!(e > s);
            }
            if r.request_type == "REVOKE_ACCESS" {
                assert!(i.comment.as_deref().is_some_and(|c| !c.trim().is_empty()));
                assert!(i.start_date.is_none());
            }
            if let Some(m) = &i.client_metadata {
                assert!(m
                    .as_object()
                    .is_some_and(|m| m.values().all(Value::is_string)));
            }
            assert!(i.account_selection.as_ref().is_none_or(Value::is_array));
        }
        if r.request_type == "REVOKE_ACCESS" {
            assert_eq!(r.requested_for.len(), 1);
            assert!(entitlements <= 1);
        }
    }
    assert!(pairs <= 5_000);
}

fn bounded(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().count() <= 255
}

fn seal_key() -> Sealer {
    Keyring::single(b"fuzz-master-key-0123456789abcdef").sealer(SEAL_PURPOSE)
}

/// What every stored integration satisfies: URL attributes Gatehouse may call under the strict
/// policy, and no credential in clear among the attributes.
fn check_integration(i: &Integration) {
    let ty: &IntegrationType = IntegrationType::by_type(&i.type_name).expect("a known type");
    for a in ty.attributes {
        let v = i.attributes.get(a.name);
        match a.kind {
            Kind::Url => {
                if let Some(Value::String(u)) = v {
                    assert!(check_url(u, strict()).is_ok(), "{} = {u:?}", a.name);
                }
            }
            Kind::Secret => {
                assert!(
                    v.is_none_or(|v| v.is_null() || v == MASK),
                    "credential {} kept in clear",
                    a.name
                );
            }
            _ => {}
        }
    }
}

/// A stored ServiceNow integration, as PUT and PATCH find it.
fn stored() -> &'static Integration {
    static STORED: OnceLock<Integration> = OnceLock::new();
    STORED.get_or_init(|| {
        let body = json!({
            "name": "ServiceNow prod",
            "description": "Tickets for manual changes",
            "type": "ServiceNowSDIM",
            "ownerRef": {"type": "IDENTITY", "id": "2c9180835d2e5168015d32f890ca1581"},
            "provisioningConfig": {"noProvisioningRequests": true, "provisioningRequestExpiration": 7},
            "attributes": {"url": "https://acme.service-now.com", "username": "svc-iam", "password": "s3cret-pw"}
        });
        let draft = Draft::parse(&body, &Current::default()).expect("the sample parses");
        build(&seal_key(), strict(), "t1", "sdim-1", draft, None, NOW).expect("the sample builds")
    })
}

fn current() -> Current {
    let s = stored();
    Current {
        cluster: s.cluster.as_ref().map(|r| r.id.clone()),
        sources: s.managed_sources.iter().map(|r| r.id.clone()).collect(),
    }
}

fn build_over_stored(body: &Value) {
    let Some(draft) = refused(Draft::parse(body, &current())) else {
        return;
    };
    if let Some(i) = refused(build(
        &seal_key(),
        strict(),
        "t1",
        "sdim-1",
        draft,
        Some(stored()),
        NOW,
    )) {
        check_integration(&i);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    match mode % 9 {
        0 => {
            let Some(raw) = refused(json_body::<Value>(body)) else {
                return;
            };
            if let Some(r) = refused(submission(raw, "requester-1", mode & 0x80 != 0, NOW)) {
                check_submission(&r);
            }
        }
        1 => {
            let required = mode & 0x80 != 0;
            let blank = body.iter().all(u8::is_ascii_whitespace);
            match refused(comment_body(&Bytes::copy_from_slice(body), required)) {
                Some(Some(_)) => assert!(!blank),
                Some(None) => assert!(!blank || !required),
                None => assert!(!blank || required),
            }
        }
        2 => {
            if let Some(dto) = refused(json_body::<ForwardApprovalDto>(body)) {
                if let Some((owner, comment)) = refused(dto.fields()) {
                    assert!(bounded(&owner) && bounded(&comment));
                }
            }
        }
        3 => {
            if let Some(dto) = refused(json_body::<WorkItemForward>(body)) {
                if let Some((target, comment, _)) = refused(dto.fields()) {
                    assert!(!target.trim().is_empty() && !comment.trim().is_empty());
                }
            }
        }
        4 => {
            let Some(v) = refused(json_body::<Value>(body)) else {
                return;
            };
            let Some(draft) = refused(Draft::parse(&v, &Current::default())) else {
                return;
            };
            if let Some(i) = refused(build(&seal_key(), strict(), "t1", "sdim-2", draft, None, NOW)) {
                check_integration(&i);
            }
        }
        5 => {
            let Some(v) = refused(json_body::<Value>(body)) else {
                return;
            };
            let Some(ops) = refused(replace_operations(v)) else {
                return;
            };
            let mut doc = ServiceDeskIntegrationDto::patch_document(stored()).expect("a document");
            if refused(apply_replacements(&mut doc, ops)).is_some() {
                build_over_stored(&doc);
            }
        }
        6 => {
            if let Some(v) = refused(json_body::<Value>(body)) {
                build_over_stored(&v);
            }
        }
        7 => {
            let Some(v) = refused(json_body::<Value>(body)) else {
                return;
            };
            let strict = refused(json_patch(v.clone()));
            let lenient = refused(json_patch_allowing_null(v));
            if let Some(p) = &strict {
                assert_eq!(Some(p), lenient.as_ref());
                let mut doc =
                    ServiceDeskIntegrationDto::patch_document(stored()).expect("a document");
                let before = doc.clone();
                if refused(apply_patch(&mut doc, p)).is_none() {
                    // A patch that fails changes nothing.
                    assert_eq!(doc, before);
                }
            }
        }
        _ => {
            let Some(v) = refused(json_body::<Value>(body)) else {
                return;
            };
            if let Some(c) = refused(QueuedCheckConfigDetails::parse(&v)) {
                assert!(StatusCheck::INTERVAL_MINUTES.contains(&c.interval_minutes));
                assert!(StatusCheck::MAX_DAYS.contains(&c.max_days));
            }
        }
    }
});
