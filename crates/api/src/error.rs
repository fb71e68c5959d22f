//! `ApiError`, the only error type that knows HTTP, and its rendering in SailPoint's three shapes:
//! `ErrorResponseDto` (400/403/404/405/409/413/500/501/503), `{"error": …}` (401) and
//! `{"message": " Rate Limit Exceeded "}` with `Retry-After` (429).
//!
//! Handlers return `ApiError`; it travels in the response extensions to [`render_errors`], which
//! knows the request's tracking id, writes the body and logs server faults once. Internal causes
//! are logged, never sent.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_store::StoreError;
use serde::Serialize;
use std::sync::Arc;

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with a detail code such as "400.1 Bad Request Content" and a message for the caller.
    #[error("{detail}: {message}")]
    BadRequest {
        /// SailPoint detail code.
        detail: &'static str,
        /// What was wrong, in words the caller can act on.
        message: String,
    },
    /// 401 with SailPoint's `{"error": …}` text.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: no such object (or the caller may not know of it).
    #[error("not found: {0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 429: over the rate limit; retry after this many seconds.
    #[error("rate limited")]
    RateLimited(u64),
    /// 501: the operation is routed but not built yet.
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
    /// 503: a dependency (the database) is unavailable; retry after this many seconds.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: a fault of ours. The cause is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 "400.1 Bad Request Content".
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: "400.1 Bad Request Content",
            message: message.into(),
        }
    }

    /// A 400 "400.1.0 Required Data Missing Or Empty".
    pub fn missing(field: &str) -> Self {
        Self::BadRequest {
            detail: "400.1.0 Required Data Missing Or Empty",
            message: format!("'{field}' is required."),
        }
    }

    /// A 400 "400.1.3 Illegal value".
    pub fn illegal(message: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: "400.1.3 Illegal value",
            message: message.into(),
        }
    }

    /// A 400 "400.1.409 Reference conflict" (e.g. a name that must be unique).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: "400.1.409 Reference conflict",
            message: message.into(),
        }
    }

    /// A 400 "400.1.404 Referenced object not found" (a reference to an object that does not
    /// exist).
    pub fn unknown_reference(message: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: "400.1.404 Referenced object not found",
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail_and_text(&self) -> (&'static str, String, Option<String>) {
        match self {
            Self::BadRequest { detail, message } => (
                detail,
                "The request was syntactically correct but its content is semantically invalid.".into(),
                Some(message.clone()),
            ),
            Self::Unauthorized(m) => ("401 Unauthorized", m.clone(), None),
            Self::Forbidden(m) => (
                "403 Forbidden",
                "The server understood the request but refuses to authorize it.".into(),
                Some(m.clone()),
            ),
            Self::NotFound(m) => (
                "404 Not found",
                "The server did not find a current representation for the target resource.".into(),
                Some(m.clone()),
            ),
            Self::MethodNotAllowed => (
                "405 Method Not Allowed",
                "The method is not supported for the target resource.".into(),
                None,
            ),
            Self::PayloadTooLarge => (
                "413 Payload Too Large",
                "The request body is larger than the server accepts.".into(),
                None,
            ),
            Self::RateLimited(_) => ("429 Too Many Requests", " Rate Limit Exceeded ".into(), None),
            Self::NotImplemented(op) => (
                "501 Not Implemented",
                format!("The operation {op} is not implemented by Gatehouse yet; see docs/API-COMPAT.md."),
                None,
            ),
            Self::Unavailable(_) => (
                "503 Service Unavailable",
                "The service is temporarily unavailable; retry later.".into(),
                None,
            ),
            Self::Internal(_) => ("500.0 Internal Fault", "An internal fault occurred.".into(), None),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Self::Unavailable(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status().into_response();
        res.extensions_mut().insert(Arc::new(self));
        res
    }
}

/// One localized message of an `ErrorResponseDto`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessageDto {
    /// BCP 47 locale.
    pub locale: &'static str,
    /// `DEFAULT` or `REQUEST`.
    pub locale_origin: &'static str,
    /// The text.
    pub text: String,
}

/// SailPoint's error body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponseDto {
    /// E.g. "400.1 Bad Request Content".
    pub detail_code: &'static str,
    /// The request id, also sent as the `SLPT-Request-ID` header.
    pub tracking_id: String,
    /// What happened.
    pub messages: Vec<ErrorMessageDto>,
    /// Why.
    pub causes: Vec<ErrorMessageDto>,
}

fn msg(text: String) -> ErrorMessageDto {
    ErrorMessageDto {
        locale: "en-US",
        locale_origin: "DEFAULT",
        text,
    }
}

/// The request id of the current request (set by [`render_errors`]).
#[derive(Clone, Debug)]
pub struct TrackingId(pub String);

/// The response header that carries the tracking id.
pub const TRACKING_HEADER: &str = "slpt-request-id";

fn json_body(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Renders the body of an [`ApiError`] (for the request with tracking id `tracking`).
pub fn render(err: &ApiError, tracking: &str) -> Response {
    let status = err.status();
    let mut res = match err {
        ApiError::Unauthorized(text) => json_body(status, &serde_json::json!({ "error": text })),
        ApiError::RateLimited(_) => json_body(
            status,
            &serde_json::json!({ "message": " Rate Limit Exceeded " }),
        ),
        _ => {
            let (detail, text, cause) = err.detail_and_text();
            let mut messages = vec![msg(text)];
            let causes = cause.map(msg).into_iter().collect::<Vec<_>>();
            if matches!(
                err,
                ApiError::BadRequest { .. } | ApiError::Forbidden(_) | ApiError::NotFound(_)
            ) {
                // The specific reason goes first, so clients that print messages[0] show it.
                if let Some(c) = causes.first() {
                    messages.insert(0, msg(c.text.clone()));
                }
            }
            json_body(
                status,
                &ErrorResponseDto {
                    detail_code: detail,
                    tracking_id: tracking.to_owned(),
                    messages,
                    causes,
                },
            )
        }
    };
    match err {
        ApiError::RateLimited(secs) => {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
        }
        ApiError::Unavailable(_) => {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1_u64));
        }
        _ => {}
    }
    res
}

/// Outermost middleware: gives the request a tracking id, renders any [`ApiError`] body, turns
/// bare framework rejections into SailPoint bodies, and logs server faults exactly once.
pub async fn render_errors(mut req: Request, next: Next) -> Response {
    let tracking = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(TrackingId(tracking.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let mut out = if let Some(err) = res.extensions().get::<Arc<ApiError>>().cloned() {
        if let ApiError::Internal(cause) | ApiError::Unavailable(cause) = &*err {
            tracing::error!(tracking_id = %tracking, http.method = %method, http.path = %path, error = %cause,
                "request {tracking_id} failed: {cause}", tracking_id = tracking);
        }
        let mut rendered = render(&err, &tracking);
        for (name, value) in res.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                rendered.headers_mut().insert(name.clone(), value.clone());
            }
        }
        rendered
    } else if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        render(&ApiError::PayloadTooLarge, &tracking)
    } else {
        res
    };
    if let Ok(v) = HeaderValue::from_str(&tracking) {
        out.headers_mut().insert(TRACKING_HEADER, v);
    }
    tracing::debug!(tracking_id = %tracking, http.method = %method, http.path = %path,
        http.status = out.status().as_u16(), elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "{method} {path} answered {}", out.status().as_u16());
    out
}
