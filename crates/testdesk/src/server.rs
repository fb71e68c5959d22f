//! The listener, the per-connection HTTP/1.1 server, call recording and fault injection. The
//! protocol modules provide an axum [`Router`] each; this module wraps it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::{generic, jira, servicenow, Call, Fault, Flavor, Shared};

/// Accepts connections until the task is aborted; aborting drops the [`JoinSet`], which aborts
/// every connection task (hanging ones included).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let router = match shared.flavor {
        Flavor::ServiceNow => servicenow::router(),
        Flavor::Jira => jira::router(),
        Flavor::Generic => generic::router(),
    }
    .fallback(not_found)
    .with_state(shared.clone());
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off briefly rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        connections.spawn(connection(stream, shared.clone(), router.clone()));
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, router: Router) {
    let _ = stream.set_nodelay(true);
    // A second handle on the socket, so a `Reset` can set SO_LINGER=0 after the connection
    // future (which owns the stream) is gone: closing the last handle then sends a TCP RST.
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let spare = std_stream.try_clone().ok();
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let reset = Arc::new(Notify::new());
    let reset_signal = reset.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        handle(req, shared.clone(), router.clone(), reset_signal.clone())
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = reset.notified() => {
            if let Some(spare) = &spare {
                let _ = socket2::SockRef::from(spare).set_linger(Some(Duration::ZERO));
            }
        }
    }
}

/// Whether `path` is the flavor's token endpoint (whose faults are queued separately).
fn is_token_endpoint(flavor: Flavor, path: &str) -> bool {
    match flavor {
        Flavor::ServiceNow => path == "/oauth_token.do",
        Flavor::Jira | Flavor::Generic => path == "/oauth/token",
    }
}

/// Whether a request creates a ticket: ServiceNow's `POST /api/now/table/{table}`, Jira's
/// `POST /rest/api/3/issue`, the generic desk's `POST /tickets`.
fn is_create(flavor: Flavor, method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST
        && match flavor {
            Flavor::ServiceNow => path
                .strip_prefix("/api/now/table/")
                .is_some_and(|table| !table.is_empty() && !table.contains('/')),
            Flavor::Jira => path == "/rest/api/3/issue",
            Flavor::Generic => path == "/tickets",
        }
}

/// A ticket-API request in the desk; leaving it (the handler finishing or being dropped) ends it.
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.load.in_flight = state.load.in_flight.saturating_sub(1);
    }
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    router: Router,
    reset: Arc<Notify>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let Ok(collected) = body.collect().await else {
        // The client went away mid-body; nobody reads this answer.
        return Ok(StatusCode::BAD_REQUEST.into_response());
    };
    let bytes = collected.to_bytes();
    let mut call = Call {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        at_ms: 0,
        too_many: false,
    };
    let token_endpoint = is_token_endpoint(shared.flavor, parts.uri.path());
    let flavor = shared.flavor;
    let (fault, admitted, pace) = {
        let mut state = shared.lock();
        let admitted = token_endpoint || state.admit();
        let fault = if admitted {
            state
                .matching_fault(&call, token_endpoint)
                .or_else(|| state.take_fault(token_endpoint, &call))
        } else {
            None
        };
        call.at_ms = state.now_ms();
        call.too_many = !admitted || matches!(fault, Some(Fault::TooMany { .. }));
        state.calls.push(call);
        (fault, admitted, state.pace)
    };
    if !admitted {
        let mut resp = error(flavor, StatusCode::TOO_MANY_REQUESTS, "Too many requests");
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return Ok(resp);
    }
    // Counts the request in the desk until its answer is ready (or the client goes away).
    let _in_flight = (!token_endpoint).then(|| InFlight(shared.clone()));
    if !token_endpoint {
        if is_create(flavor, &parts.method, parts.uri.path()) {
            let turn = shared.lock().create_turn(tokio::time::Instant::now());
            tokio::time::sleep_until(turn).await;
        }
        if !pace.delay.is_zero() {
            tokio::time::sleep(pace.delay).await;
        }
    }
    match &fault {
        Some(Fault::Status(code)) => return Ok(injected(flavor, *code)),
        Some(Fault::TooMany { retry_after_secs }) => {
            let mut resp = error(flavor, StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            return Ok(resp);
        }
        Some(Fault::Hang) => std::future::pending::<()>().await,
        Some(Fault::Reset) => {
            reset.notify_one();
            std::future::pending::<()>().await
        }
        Some(Fault::Raw { handled: false, .. }) => {
            return Ok(raw(fault.as_ref().expect("a fault")));
        }
        Some(Fault::SlowBody { .. } | Fault::CreatedThenStatus(_) | Fault::Raw { .. }) | None => {}
    }
    let req = Request::from_parts(parts, Body::from(bytes));
    let Ok(resp) = router.oneshot(req).await;
    Ok(match fault {
        Some(Fault::SlowBody { delay_ms }) => slow(resp, Duration::from_millis(delay_ms)).await,
        Some(Fault::CreatedThenStatus(code)) => injected(flavor, code),
        Some(ref f @ Fault::Raw { .. }) => raw(f),
        _ => resp,
    })
}

/// The answer of a [`Fault::Raw`].
fn raw(fault: &Fault) -> Response<Body> {
    let Fault::Raw {
        status,
        content_type,
        body,
        location,
        ..
    } = fault
    else {
        unreachable!("only called with a raw fault")
    };
    let mut b = Response::builder()
        .status(StatusCode::from_u16(*status).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, content_type.as_str());
    if let Some(l) = location {
        b = b.header(header::LOCATION, l.as_str());
    }
    b.body(Body::from(body.clone()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Keeps the status and headers, and re-sends the body after `delay` in 16-byte chunks.
async fn slow(resp: Response<Body>, delay: Duration) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunks: Vec<Bytes> = bytes.chunks(16).map(Bytes::copy_from_slice).collect();
    let stream = futures_util::stream::unfold(
        (chunks.into_iter(), true),
        move |(mut it, first)| async move {
            if first {
                tokio::time::sleep(delay).await;
            } else {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let chunk = it.next()?;
            Some((Ok::<_, Infallible>(chunk), (it, false)))
        },
    );
    Response::from_parts(parts, Body::from_stream(stream))
}

fn injected(flavor: Flavor, code: u16) -> Response<Body> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Injected fault");
    error(flavor, status, reason)
}

/// A JSON error in the flavor's shape.
pub(crate) fn error(flavor: Flavor, status: StatusCode, message: &str) -> Response<Body> {
    let body = match flavor {
        Flavor::ServiceNow => json!({
            "error": {"message": message, "detail": message},
            "status": "failure",
        }),
        Flavor::Jira => json!({"errorMessages": [message], "errors": {}}),
        Flavor::Generic => json!({"error": message}),
    };
    reply(status, body)
}

/// A JSON answer.
pub(crate) fn reply(status: StatusCode, body: Value) -> Response<Body> {
    (status, Json(body)).into_response()
}

async fn not_found(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> Response<Body> {
    error(shared.flavor, StatusCode::NOT_FOUND, "not found")
}

/// Parses a JSON object body, or answers 400 in the flavor's shape.
pub(crate) fn object_body(
    flavor: Flavor,
    body: &[u8],
) -> Result<Map<String, Value>, Response<Body>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(
            flavor,
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object",
        )),
        Err(e) => Err(error(
            flavor,
            StatusCode::BAD_REQUEST,
            &format!("Malformed JSON body: {e}"),
        )),
    }
}

/// The query string's pairs, percent- and `+`-decoded.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The first value of `key` in the query string.
pub(crate) fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}
