//! Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI documents of what
//! this server implements.

use crate::error::ApiError;
use crate::routes::{is_implemented, Family};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The operations routes (no authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.store().ping().await {
        Json(serde_json::json!({ "status": "ok" })).into_response()
    } else {
        ApiError::Unavailable("the database does not answer".into()).into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics().render(),
    )
        .into_response()
}

/// The spec documents of a family: the subset first, then the catalog (merged into it).
fn spec_texts(family: Family) -> &'static [&'static str] {
    match family {
        Family::V3 => &[
            include_str!("../../../../spec/sailpoint/subset-v3.json"),
            include_str!("../../../../spec/sailpoint/catalog-v3.json"),
        ],
        Family::V2024 => &[
            include_str!("../../../../spec/sailpoint/subset-v2024.json"),
            include_str!("../../../../spec/sailpoint/catalog-v2024.json"),
        ],
        Family::Beta => &[
            include_str!("../../../../spec/sailpoint/subset-beta.json"),
            include_str!("../../../../spec/sailpoint/catalog-beta.json"),
        ],
        Family::V1 => &[include_str!(
            "../../../../spec/sailpoint/subset-v1-paths.json"
        )],
        Family::Gatehouse | Family::OpsRamp => &[],
    }
}

/// One document of the family's texts: paths and components of later documents are added where
/// the earlier ones do not have them.
fn merged(family: Family) -> Option<serde_json::Value> {
    let mut docs = spec_texts(family)
        .iter()
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    let mut base = docs.next()?;
    for extra in docs {
        if let (Some(paths), Some(more)) =
            (base["paths"].as_object_mut(), extra["paths"].as_object())
        {
            for (k, v) in more {
                paths.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if let Some(sections) = extra["components"].as_object() {
            for (section, entries) in sections {
                let target = &mut base["components"][section];
                if target.is_null() {
                    *target = serde_json::json!({});
                }
                if let (Some(t), Some(e)) = (target.as_object_mut(), entries.as_object()) {
                    for (k, v) in e {
                        t.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
    }
    Some(base)
}

/// The family's spec cut to the operations this build implements (computed once).
fn implemented_spec(family: Family) -> Option<&'static serde_json::Value> {
    static CACHE: OnceLock<HashMap<Family, serde_json::Value>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            [Family::V3, Family::V2024, Family::Beta, Family::V1]
                .into_iter()
                .filter_map(|f| Some((f, cut(f)?)))
                .collect()
        })
        .get(&family)
}

fn cut(family: Family) -> Option<serde_json::Value> {
    let mut doc = merged(family)?;
    let prefix = match family {
        Family::V3 => "/v3",
        Family::V2024 => "/v2024",
        Family::Beta => "/beta",
        _ => "",
    };
    let paths = doc.get_mut("paths")?.as_object_mut()?;
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        item.retain(|method, _| {
            let m = method.to_ascii_uppercase();
            if !matches!(
                m.as_str(),
                "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE"
            ) {
                return true;
            }
            crate::operations::OPERATIONS.iter().any(|o| {
                o.family == family
                    && o.method == m
                    && o.path == format!("{prefix}{path}")
                    && is_implemented(o)
            })
        });
    }
    paths.retain(|_, item| {
        item.as_object().is_some_and(|o| {
            o.keys().any(|k| {
                matches!(
                    k.as_str(),
                    "get" | "head" | "post" | "put" | "patch" | "delete"
                )
            })
        })
    });
    Some(doc)
}

/// `GET /openapi.json?family=v3|v2024|beta|v1` (default v3).
async fn openapi(Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let name = q.get("family").map_or("v3", String::as_str);
    let family = match name {
        "v3" => Family::V3,
        "v2024" => Family::V2024,
        "beta" => Family::Beta,
        "v1" => Family::V1,
        _ => {
            return ApiError::bad_request(format!(
                "'{name}' is not a family: use v3, v2024, beta or v1."
            ))
            .into_response()
        }
    };
    let Some(doc) = implemented_spec(family) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:7100");
    let mut doc = doc.clone();
    let base = match family {
        Family::V1 => format!("http://{host}"),
        f => format!("http://{host}/{}", f.name()),
    };
    doc["servers"] = serde_json::json!([{ "url": base }]);
    Json(doc).into_response()
}
