//! `TestApp`: a fresh tenant on a fresh database, the real service, and helpers to call it.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use gatehouse_api::auth::jwt::Claims;
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::{bootstrap, ApiConfig, AppState};
use gatehouse_domain::sealed::Keyring;
use gatehouse_domain::{Clock, SystemClock, VirtualClock};
use gatehouse_store::{Store, StoreConfig, Synchronous};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

pub const ADMIN_ID: &str = "test-admin-client";
/// The master key of every test app.
pub const MASTER_KEY: &[u8] = b"test-master-key-test-master-key!";
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789abcdef0123456789abcdef";

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

pub struct TestApp {
    pub state: AppState,
    pub admin_token: String,
    pub admin_identity: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

fn pg_admin(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("PostgreSQL answers");
        c.batch_execute(&sql).expect("admin statement runs");
    })
    .join()
    .unwrap();
}

fn pg_url_for(url: &str, db: &str) -> String {
    let i = url.rfind('/').unwrap();
    format!("{}/{db}", &url[..i])
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(ApiConfig {
            rate_limit: RateLimit::Off,
            ..ApiConfig::default()
        })
        .await
    }

    pub async fn with(config: ApiConfig) -> Self {
        let (store_config, dir, pg_drop) = match std::env::var("GATEHOUSE_TEST_BACKEND").as_deref()
        {
            Ok("postgres") => {
                let url = std::env::var("GATEHOUSE_TEST_PG_URL").expect("GATEHOUSE_TEST_PG_URL");
                let db = format!("gatehouse_api_{}", gatehouse_api::auth::secrets::new_id());
                pg_admin(&url, &format!("create database {db}"));
                (
                    StoreConfig::Postgres {
                        url: pg_url_for(&url, &db),
                        pool_size: 4,
                    },
                    None,
                    Some((url, db)),
                )
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("gatehouse.db");
                (
                    StoreConfig::Sqlite {
                        path,
                        synchronous: Synchronous::Normal,
                    },
                    Some(dir),
                    None,
                )
            }
        };
        let store = Store::open(store_config, 0).await.unwrap();
        let ring = Keyring::single(MASTER_KEY);
        let clock = Arc::new(VirtualClock::new());
        let prepared = bootstrap::prepare(
            &store,
            &ring,
            clock.now(),
            Some((ADMIN_ID.into(), ADMIN_SECRET.into())),
        )
        .await
        .unwrap();
        let state = AppState::new(
            store,
            clock.clone(),
            Some(clock),
            prepared.signer,
            prepared.keys,
            config,
        );
        let mut app = Self {
            state,
            admin_token: String::new(),
            admin_identity: prepared.admin.id.clone(),
            _dir: dir,
            pg_drop,
        };
        app.admin_token = app.token(ADMIN_ID, ADMIN_SECRET).await;
        app
    }

    /// Runs background jobs until none is due at the (virtual) clock's current time.
    pub async fn drain(&self) -> usize {
        let mut total = 0;
        loop {
            let ran = self.state.runner().run_due().await.unwrap();
            if ran == 0 {
                return total;
            }
            total += ran;
        }
    }

    /// The tenant's id.
    pub async fn tenant_id(&self) -> String {
        self.state
            .store()
            .read(|c| Ok(gatehouse_store::tenants::first(c)?.unwrap().id))
            .await
            .unwrap()
    }

    /// Sends a request through the whole service.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = gatehouse_api::app(self.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// A JSON request with a bearer token.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                let ct = if method == "PATCH" {
                    "application/json-patch+json"
                } else {
                    "application/json"
                };
                b = b.header("content-type", ct);
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    /// As the admin.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(&self.admin_token.clone()), body)
            .await
    }

    /// A client-credentials token (form body).
    pub async fn token(&self, id: &str, secret: &str) -> String {
        let r = self
            .send(
                Request::post("/oauth/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(format!(
                        "grant_type=client_credentials&client_id={id}&client_secret={secret}"
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "token for {id}: {}", r.text);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a person with `authorities` and returns (identity id, token acting as them).
    pub async fn person(&self, name: &str, authorities: &[&str]) -> (String, String) {
        let r = self
            .admin(
                "POST",
                "/gatehouse/v1/identities",
                Some(json!({"name": name, "authorities": authorities})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let pat = self
            .admin(
                "POST",
                &format!("/gatehouse/v1/identities/{id}/personal-access-tokens"),
                Some(json!({"name": format!("{name}-pat")})),
            )
            .await;
        assert_eq!(pat.status, StatusCode::OK, "{}", pat.text);
        let token = self
            .token(
                pat.body["id"].as_str().unwrap(),
                pat.body["secret"].as_str().unwrap(),
            )
            .await;
        (id, token)
    }

    /// The SQLite database file, when the test runs on SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.path().join("gatehouse.db"))
    }

    /// The URL of the test's own PostgreSQL database, when the test runs on PostgreSQL.
    pub fn pg_database_url(&self) -> Option<String> {
        self.pg_drop.as_ref().map(|(url, db)| pg_url_for(url, db))
    }

    /// A token signed with the real key but with `edit` applied to its claims.
    pub fn forged(&self, edit: impl FnOnce(&mut Claims)) -> String {
        let now = SystemClock.now().unix_seconds();
        let mut c = Claims {
            tenant_id: "t".into(),
            org: "gatehouse".into(),
            pod: "gatehouse".into(),
            internal: false,
            identity_id: Some(self.admin_identity.clone()),
            user_name: Some("admin".into()),
            authorities: vec!["ORG_ADMIN".into()],
            client_id: ADMIN_ID.into(),
            scope: vec!["sp:scopes:all".into()],
            strong_auth: false,
            strong_auth_supported: false,
            iat: now,
            exp: now + 600,
            jti: "j".into(),
            token_use: "access".into(),
            ati: None,
            nbf: None,
        };
        edit(&mut c);
        self.state.signer().sign(&c)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((url, db)) = self.pg_drop.take() {
            pg_admin(&url, &format!("drop database if exists {db} with (force)"));
        }
    }
}

/// Asserts `r` is an ErrorResponseDto with `status`, and returns all its texts joined.
pub fn assert_error(r: &Reply, status: StatusCode) -> String {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(r.body["detailCode"].is_string(), "detailCode in {}", r.text);
    let tracking = r.body["trackingId"].as_str().unwrap();
    assert_eq!(
        r.headers.get("slpt-request-id").unwrap().to_str().unwrap(),
        tracking
    );
    let texts: Vec<String> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r.body["causes"].as_array().unwrap())
        .map(|m| {
            assert_eq!(m["locale"], "en-US");
            assert_eq!(m["localeOrigin"], "DEFAULT");
            m["text"].as_str().unwrap().to_owned()
        })
        .collect();
    texts.join(" | ")
}

/// Asserts an RFC 3339 UTC date with milliseconds.
pub fn assert_millis_date(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a date: {v}"));
    assert_eq!(s.len(), 24, "{s}");
    assert!(s.ends_with('Z') && s.as_bytes()[19] == b'.', "{s}");
}
