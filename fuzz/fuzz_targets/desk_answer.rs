//! Fuzz target: how Gatehouse reads service-desk answers (`gatehouse_desk`).
//!
//! The first byte picks the desk protocol (ServiceNow, Jira, generic REST) and, for the generic
//! desk, where its answers hold the ticket id and status; the rest is a response body (or a
//! `Retry-After` value). Through the same readers the desk jobs use (`Reply::json`,
//! `Link::found_ticket`, `created_ticket`, `status_in`, `protocol::webhook_keys` and
//! `webhook_status`, `auth::token_answer` and `refresh_instant`, `http::retry_after_ms`):
//! - a ticket read from an answer has a non-empty id, and its number and status, when present,
//!   are non-empty (an empty id could never be looked up again);
//! - a status read from an answer or a webhook, and every webhook key, is non-empty;
//! - a token endpoint's answer yields a non-empty token, and the refresh instant it implies is
//!   not in the past and not after the token's expiry;
//! - `Retry-After` is read as a wait from 0 to 24 hours.
//! Nothing may panic.

#![no_main]

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use gatehouse_desk::auth::{refresh_instant, token_answer, Auth};
use gatehouse_desk::http::{retry_after_ms, Reply};
use gatehouse_desk::protocol::{webhook_keys, webhook_status, DeskTicket, Flavor, Link};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

const NOW_MS: i64 = 1_800_000_000_000;
const POINTERS: &[&str] = &["/id", "/ticket/id", "data.id", "/items/0/id", "", "/"];
const STATUS_AT: &[&str] = &["/status", "/ticket/state", "fields.status", "", "state"];

fn link(mode: u8) -> Link {
    let flavor = match mode % 3 {
        0 => Flavor::ServiceNow,
        1 => Flavor::Jira,
        _ => Flavor::Generic,
    };
    let mut attrs: Map<String, Value> = Map::new();
    attrs.insert("url".into(), json!("https://desk.example.com"));
    let k = usize::from(mode / 3);
    match flavor {
        Flavor::ServiceNow if k % 2 == 1 => {
            attrs.insert("statusField".into(), json!("u_status"));
        }
        Flavor::Generic => {
            attrs.insert(
                "ticketIdPointer".into(),
                json!(POINTERS[k % POINTERS.len()]),
            );
            attrs.insert(
                "lookupIdPointer".into(),
                json!(POINTERS[(k / 2) % POINTERS.len()]),
            );
            attrs.insert(
                "statusPointer".into(),
                json!(STATUS_AT[k % STATUS_AT.len()]),
            );
        }
        _ => {}
    }
    Link {
        id: "sdim-1".into(),
        flavor,
        attrs,
        auth: Auth::None,
    }
}

fn check_ticket(t: &DeskTicket, body: &Value) {
    assert!(!t.id.is_empty(), "ticket without id from {body}");
    assert!(t.number.as_deref().is_none_or(|n| !n.is_empty()), "{body}");
    assert!(t.status.as_deref().is_none_or(|s| !s.is_empty()), "{body}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Retry-After, as sent in any 429 or 503.
    if let Ok(v) = HeaderValue::from_bytes(rest) {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, v);
        if let Some(ms) = retry_after_ms(&h, NOW_MS) {
            assert!(
                (0..=86_400_000).contains(&ms),
                "Retry-After {rest:?} read as {ms} ms"
            );
        }
    }
    let reply = Reply {
        status: StatusCode::OK,
        body: rest.to_vec(),
    };
    let body = match reply.json("the desk") {
        Ok(b) => b,
        Err(e) => {
            assert!(!e.is_transient());
            return;
        }
    };
    let link = link(mode);
    if let Some(t) = link.found_ticket(&body) {
        check_ticket(&t, &body);
    }
    if let Ok(t) = link.created_ticket(&body) {
        check_ticket(&t, &body);
    }
    if let Some(s) = link.status_in(&body) {
        assert!(!s.is_empty(), "empty status from {body}");
    }
    for k in webhook_keys(link.flavor, &body) {
        assert!(!k.is_empty(), "empty webhook key from {body}");
    }
    if let Some(s) = webhook_status(&link, &body) {
        assert!(!s.is_empty(), "empty webhook status from {body}");
    }
    if let Ok((token, lifetime)) = token_answer(&body) {
        assert!(!token.is_empty());
        let now = Instant::now();
        let at = refresh_instant(now, lifetime);
        assert!(at >= now);
        if let Some(expiry) = now.checked_add(Duration::from_secs(lifetime)) {
            assert!(at <= expiry, "refresh after expiry for {body}");
        }
    }
});
