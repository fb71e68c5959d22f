//! Gatehouse's HTTP surface.
//!
//! [`app`] builds the whole service: SailPoint's operations in four path families from one route
//! table ([`routes`]), the token endpoint, Gatehouse's admin API, health, metrics and OpenAPI.
//! Handlers are named after SailPoint's operationIds; wire types after its schema names.

pub mod auth;
pub mod bootstrap;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod metrics;
pub mod notifications;
pub mod operations;
pub mod rekey;
pub mod routes;
pub mod wire;

use auth::jwt::Signer;
use auth::rate_limit::{RateLimit, RateLimiter};
use axum::extract::Request;
use axum::middleware::from_fn;
use gatehouse_domain::{Clock, VirtualClock};
use gatehouse_store::access_requests;
use gatehouse_store::runner::{Runner, RunnerConfig};
use gatehouse_store::Store;
use std::sync::Arc;

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Per-client rate limit.
    pub rate_limit: RateLimit,
    /// Failed token requests allowed per client id (bad secret, unknown client); past it the
    /// token endpoint answers 429 for that client id until the window refills.
    pub token_failures: RateLimit,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The pod name reported in tokens.
    pub pod: String,
    /// Hide tasks older than 90 days, as SailPoint does (`--task-retention strict`).
    pub task_retention_strict: bool,
    /// Which networks tenant-supplied URLs (service desks, token endpoints) may reach.
    pub net: gatehouse_domain::net_guard::NetPolicy,
    /// Limits of calls to service desks (what they may reach is `net`).
    pub desk: gatehouse_desk::DeskConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            rate_limit: RateLimit::Per {
                requests: 100,
                window: std::time::Duration::from_secs(10),
            },
            token_failures: RateLimit::Per {
                requests: 10,
                window: std::time::Duration::from_secs(60),
            },
            max_body_bytes: 1024 * 1024,
            pod: "gatehouse".into(),
            net: gatehouse_domain::net_guard::NetPolicy::default(),
            task_retention_strict: false,
            desk: gatehouse_desk::DeskConfig::default(),
        }
    }
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    virtual_clock: Option<Arc<VirtualClock>>,
    signer: Signer,
    keys: bootstrap::ServerKeys,
    rate_limiter: RateLimiter,
    token_failures: RateLimiter,
    metrics: metrics::Metrics,
    config: ApiConfig,
    runner: Runner,
    desks: Arc<gatehouse_desk::Desks>,
}

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Assembles the state. `virtual_clock` is set when the server runs with `--clock virtual`
    /// (then it is also `clock`).
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        virtual_clock: Option<Arc<VirtualClock>>,
        signer: Signer,
        keys: bootstrap::ServerKeys,
        config: ApiConfig,
    ) -> Self {
        let desks = Arc::new(gatehouse_desk::Desks::new(
            store.clone(),
            clock.clone(),
            &keys.ring,
            config.net.clone(),
            config.desk,
        ));
        let mut handlers = access_requests::handlers::all(&store, &clock);
        handlers.extend(gatehouse_desk::handlers(&desks));
        let runner = Runner::new(
            store.clone(),
            clock.clone(),
            handlers,
            RunnerConfig {
                lease_ms: i64::try_from(config.desk.lease.as_millis()).unwrap_or(i64::MAX),
                ..RunnerConfig::new(format!("worker-{}", auth::secrets::new_id()))
            },
        );
        Self(Arc::new(Inner {
            runner,
            desks,
            store,
            clock,
            virtual_clock,
            signer,
            keys,
            rate_limiter: RateLimiter::new(config.rate_limit),
            token_failures: RateLimiter::new(config.token_failures),
            metrics: metrics::Metrics::new(),
            config,
        }))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The business clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.0.clock
    }

    /// The virtual clock, when the server runs with one.
    pub fn virtual_clock(&self) -> Option<&Arc<VirtualClock>> {
        self.0.virtual_clock.as_ref()
    }

    /// The token signer.
    pub fn signer(&self) -> &Signer {
        &self.0.signer
    }

    /// The key secrets are hashed with.
    pub fn secret_hash_key(&self) -> &[u8] {
        self.0.keys.hash_key()
    }

    /// The master keys: the primary seals stored credentials, every key opens them.
    pub fn keyring(&self) -> &gatehouse_domain::sealed::Keyring {
        &self.0.keys.ring
    }

    /// The per-client rate limiter.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.0.rate_limiter
    }

    /// Failed token requests per client id.
    pub fn token_failures(&self) -> &RateLimiter {
        &self.0.token_failures
    }

    /// Request metrics.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.0.metrics
    }

    /// Settings.
    pub fn config(&self) -> &ApiConfig {
        &self.0.config
    }

    /// The background job runner (the server spawns it; tests drive it with `run_due`).
    pub fn runner(&self) -> &Runner {
        &self.0.runner
    }

    /// The service-desk provisioning state (outbound client, token cache).
    pub fn desks(&self) -> &Arc<gatehouse_desk::Desks> {
        &self.0.desks
    }

    /// Wakes the job runner: call after committing a write that enqueued jobs due now.
    pub fn wake_jobs(&self) {
        self.0.runner.waker().notify_one();
    }
}

/// Collapses repeated slashes (`//v3/…` from a base URL that ends in `/`) before routing.
fn normalize_path(mut req: Request) -> Request {
    let path = req.uri().path();
    if !path.contains("//") {
        return req;
    }
    let mut clean = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && clean.ends_with('/')) {
            clean.push(c);
        }
    }
    let pq = match req.uri().query() {
        Some(q) => format!("{clean}?{q}"),
        None => clean,
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(p) = pq.parse() {
        parts.path_and_query = Some(p);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// The whole service as a tower service: path normalisation, then the router.
pub fn app(
    state: AppState,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    let max_body = state.config().max_body_bytes;
    let metrics_state = state.clone();
    let router = routes::router(state)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(from_fn(move |req, next| {
            metrics::track(metrics_state.clone(), req, next)
        }))
        .layer(from_fn(error::render_errors));
    tower::ServiceBuilder::new()
        .map_request(normalize_path)
        .service(router)
}
