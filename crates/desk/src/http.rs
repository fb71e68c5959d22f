//! The outbound HTTP client every desk call goes through.
//!
//! Requests have a connect and a total timeout, follow no redirects, ignore proxy settings, and
//! read at most [`DeskConfig::max_response_bytes`] of a response. The network policy is checked
//! twice: on the URL before the request (scheme, literal addresses, metadata names) and on every
//! address its host name resolves to, by the client's own resolver, so a name that resolves to a
//! link-local or metadata address is never connected to.

use gatehouse_domain::net_guard::{check_resolved, check_url, NetPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Limits of outbound calls.
#[derive(Clone, Copy, Debug)]
pub struct DeskConfig {
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Total timeout of one request (connect, send, read the whole response).
    pub total_timeout: Duration,
    /// Largest response body read.
    pub max_response_bytes: usize,
    /// Calls in flight to one service-desk integration at once.
    pub per_link_concurrency: usize,
    /// How long a job's lease lasts (the runner's lease). A ticket job renews it before a desk
    /// call that could otherwise outlive it, so that no other worker takes the job while the
    /// call is in flight.
    pub lease: Duration,
}

impl Default for DeskConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(30),
            max_response_bytes: 1024 * 1024,
            per_link_concurrency: 4,
            lease: Duration::from_secs(60),
        }
    }
}

/// How much of a lease must be left, beyond a desk call's total timeout, for the call to be made
/// without renewing the lease first.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);

impl DeskConfig {
    /// Refuses a lease too short to cover one desk call: a ticket job renews its lease before a
    /// call to `now + lease`, which must outlast the call (its total timeout) and the margin, or
    /// another worker could take the job while the call is in flight.
    pub fn check(&self) -> Result<(), String> {
        let needed = self.total_timeout + LEASE_MARGIN;
        if self.lease < needed {
            return Err(format!(
                "the job lease ({} s) must be at least the desk timeout ({} s) plus {} s",
                self.lease.as_secs_f64(),
                self.total_timeout.as_secs_f64(),
                LEASE_MARGIN.as_secs()
            ));
        }
        Ok(())
    }
}

/// Why a call failed. Messages name the endpoint by host and path, never credentials.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The URL or an address it resolves to is not one Gatehouse may call.
    #[error("{0}")]
    Refused(String),
    /// No answer in time.
    #[error("{0} timed out")]
    Timeout(String),
    /// The connection failed or broke.
    #[error("{0}: connection failed ({1})")]
    Connect(String, String),
    /// The response body was larger than allowed.
    #[error("{0}: the response is larger than {1} bytes")]
    TooLarge(String, usize),
    /// The desk answered with an error status.
    #[error("{what} answered {status}{detail}")]
    Status {
        /// The endpoint.
        what: String,
        /// The status.
        status: u16,
        /// `Retry-After`, milliseconds.
        retry_after_ms: Option<i64>,
        /// An excerpt of the body, prefixed with ": ".
        detail: String,
    },
    /// The answer could not be understood.
    #[error("{0}")]
    Protocol(String),
}

impl CallError {
    /// True for faults that may pass: timeouts, broken connections, 408, 425, 429 and 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Connect(..) => true,
            Self::Status { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
            _ => false,
        }
    }

    /// The wait the desk asked for.
    pub fn retry_after_ms(&self) -> Option<i64> {
        match self {
            Self::Status { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    /// The status code, for an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// An answer with a 2xx status.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self, what: &str) -> Result<serde_json::Value, CallError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| CallError::Protocol(format!("{what}: the answer is not JSON ({e})")))
    }
}

/// A request to send. Its `Debug` shows header and form names, not their values (credentials).
pub struct Call {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers (credentials included).
    pub headers: Vec<(String, String)>,
    /// A JSON body.
    pub json: Option<serde_json::Value>,
    /// A form body.
    pub form: Option<Vec<(String, String)>>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names(&self.headers))
            .field("json", &self.json.as_ref().map(|_| "…"))
            .field("form", &self.form.as_deref().map(names))
            .finish()
    }
}

impl Call {
    /// A request without body.
    pub fn new(method: Method, url: String) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            json: None,
            form: None,
        }
    }
}

/// How host names become addresses: the system's resolver, or in tests one whose answers change
/// from one lookup to the next (DNS rebinding).
type Lookup = Arc<dyn Fn(String) -> LookupFuture + Send + Sync>;
type LookupFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;

fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    })
}

/// Resolves host names and drops every address the policy forbids, at every lookup: reqwest keeps
/// no cache of its own, so each new connection is made to addresses checked just before.
struct GuardedResolver {
    policy: NetPolicy,
    lookup: Lookup,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, lookup) = (self.policy.clone(), self.lookup.clone());
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = lookup(host.clone()).await?;
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| check_resolved(&host, a.ip(), &policy).is_ok())
                .collect();
            if allowed.is_empty() {
                let why = found
                    .first()
                    .and_then(|a| check_resolved(&host, a.ip(), &policy).err())
                    .map_or_else(|| "no address".to_owned(), |e| e.to_string());
                return Err(
                    format!("{host} resolves to no address Gatehouse may call: {why}").into(),
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The guarded client.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    net: NetPolicy,
    config: DeskConfig,
}

fn describe(url: &url::Url) -> String {
    format!(
        "{}{}",
        url.host_str().unwrap_or("?"),
        if url.path() == "/" { "" } else { url.path() }
    )
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub fn retry_after_ms(headers: &HeaderMap, now_unix_ms: i64) -> Option<i64> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return Some(secs.clamp(0, 86_400) * 1000);
    }
    let at = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()?;
    Some((ms - now_unix_ms).clamp(0, 86_400_000))
}

impl Http {
    /// A client that reaches what `net` allows, with `config`'s limits.
    pub fn new(net: NetPolicy, config: DeskConfig) -> Self {
        Self::with_lookup(net, config, system_lookup())
    }

    fn with_lookup(net: NetPolicy, config: DeskConfig, lookup: Lookup) -> Self {
        let resolver = GuardedResolver {
            policy: net.clone(),
            lookup,
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .dns_resolver(Arc::new(resolver))
            .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds with static settings");
        Self {
            client,
            net,
            config,
        }
    }

    /// The limits.
    pub fn config(&self) -> &DeskConfig {
        &self.config
    }

    /// Sends `call`; a non-2xx answer is a [`CallError::Status`].
    pub async fn send(&self, call: Call) -> Result<Reply, CallError> {
        let url = check_url(&call.url, &self.net)
            .map_err(|e| CallError::Refused(format!("not a URL Gatehouse may call: {e}")))?;
        let what = format!("{} {}", call.method, describe(&url));
        let mut req = self.client.request(call.method, url);
        for (k, v) in &call.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| CallError::Protocol(format!("{what}: bad header name {k}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| CallError::Protocol(format!("{what}: bad value for header {k}")))?;
            req = req.header(name, value);
        }
        if let Some(j) = &call.json {
            req = req.json(j);
        }
        if let Some(f) = &call.form {
            req = req.form(f);
        }
        let fail = |e: reqwest::Error| {
            if e.is_timeout() {
                CallError::Timeout(what.clone())
            } else {
                let mut cause = String::new();
                let mut src: Option<&dyn std::error::Error> = Some(&e);
                while let Some(s) = src {
                    cause = s.to_string();
                    src = s.source();
                }
                if cause.contains("Gatehouse may call") {
                    CallError::Refused(cause)
                } else {
                    CallError::Connect(what.clone(), cause)
                }
            }
        };
        let mut res = req.send().await.map_err(fail)?;
        let status = res.status();
        let now_ms = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(0);
        let retry_after = retry_after_ms(res.headers(), now_ms);
        let cap = self.config.max_response_bytes;
        if res.content_length().is_some_and(|n| n > cap as u64) {
            return Err(CallError::TooLarge(what, cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(fail)? {
            if body.len() + chunk.len() > cap {
                return Err(CallError::TooLarge(what, cap));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let excerpt: String = String::from_utf8_lossy(&body).chars().take(300).collect();
            return Err(CallError::Status {
                what,
                status: status.as_u16(),
                retry_after_ms: retry_after,
                detail: if excerpt.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", excerpt.trim())
                },
            });
        }
        Ok(Reply { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn the_resolver_drops_forbidden_addresses() {
        let guarded = |policy| GuardedResolver {
            policy,
            lookup: system_lookup(),
        };
        let refused = guarded(NetPolicy::default())
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        let e = refused
            .err()
            .expect("loopback is refused without allow_private");
        assert!(
            e.to_string().contains("no address Gatehouse may call"),
            "{e}"
        );
        let allowed: Vec<SocketAddr> = guarded(NetPolicy::private_allowed())
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()) && !allowed.is_empty());
    }

    /// SSRF-2: a name whose answer alternates between a public address and 127.0.0.1 (a DNS
    /// rebinding attacker's server) never gets a connection to the loopback listener: every
    /// lookup is checked, not only the first. With private networks allowed, the same name does
    /// reach it, so the refusals are the guard's.
    #[tokio::test]
    async fn a_name_that_rebinds_to_loopback_never_reaches_it() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((_s, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
            }
        });
        let rebinding = |lookups: Arc<AtomicUsize>| -> Lookup {
            Arc::new(move |_host: String| {
                let n = lookups.fetch_add(1, Ordering::SeqCst);
                // 192.0.2.1 (a public address to the guard) first, then 127.0.0.1, and so on.
                let ip = if n.is_multiple_of(2) {
                    [192, 0, 2, 1]
                } else {
                    [127, 0, 0, 1]
                };
                Box::pin(async move { Ok(vec![SocketAddr::from((ip, 0))]) })
            })
        };
        let config = DeskConfig {
            connect_timeout: Duration::from_millis(200),
            total_timeout: Duration::from_millis(500),
            ..DeskConfig::default()
        };
        let url = format!("http://rebind.example.com:{port}/");
        let lookups = Arc::new(AtomicUsize::new(0));
        let strict = Http::with_lookup(NetPolicy::default(), config, rebinding(lookups.clone()));
        for _ in 0..6 {
            assert!(strict
                .send(Call::new(Method::GET, url.clone()))
                .await
                .is_err());
        }
        assert!(
            lookups.load(Ordering::SeqCst) >= 6,
            "a lookup per connection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "the loopback listener saw nothing"
        );

        let open = Http::with_lookup(
            NetPolicy::private_allowed(),
            config,
            rebinding(Arc::new(AtomicUsize::new(0))),
        );
        for _ in 0..2 {
            let _ = open.send(Call::new(Method::GET, url.clone())).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            hits.load(Ordering::SeqCst) >= 1,
            "allowed, the name reaches it"
        );
    }
}
