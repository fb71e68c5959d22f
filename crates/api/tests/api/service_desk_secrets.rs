//! Service desk credentials: sealed at rest under a key outside the database, kept by the mask
//! only for the same endpoint, and never seen again: not in a response, an error, a log line, the
//! SQLite file or a PostgreSQL dump.

use crate::service_desk::{catalog, create, snow};
use crate::support::*;
use axum::http::StatusCode;
use gatehouse_domain::sealed::{Keyring, SealError};
use gatehouse_domain::service_desk::{seal_context, SEAL_PURPOSE};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The stored `(attributes, secrets)` of integration `id`.
async fn stored(app: &TestApp, id: &str) -> (Map<String, Value>, BTreeMap<String, String>) {
    let id = id.to_owned();
    app.state
        .store()
        .read(move |c| {
            let r = c.query_one(
                "select attributes, secrets from service_desk_integration where id = $1",
                &[id.into()],
            )?;
            Ok((r.json(0)?, r.json(1)?))
        })
        .await
        .unwrap()
}

async fn open(app: &TestApp, id: &str, pointer: &str) -> Result<String, SealError> {
    let tenant = app.tenant_id().await;
    let (_, secrets) = stored(app, id).await;
    Keyring::single(MASTER_KEY)
        .sealer(SEAL_PURPOSE)
        .open(&secrets[pointer], &seal_context(&tenant, id, pointer))
        .map(|s| s.expose().to_owned())
}

#[tokio::test]
async fn credentials_are_sealed_and_kept_by_the_mask_only_for_the_same_endpoint() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let created = create(&app, snow("Desk", &cat, &[])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let url = format!("/v3/service-desk-integrations/{id}");
    let (attributes, secrets) = stored(&app, &id).await;
    assert_eq!(attributes["password"], "********");
    assert_eq!(secrets.keys().collect::<Vec<_>>(), vec!["/password"]);
    let primary = format!("v2:{}:", app.state.keyring().primary().id());
    assert!(secrets["/password"].starts_with(&primary), "{secrets:?}");
    assert_eq!(open(&app, &id, "/password").await.unwrap(), "s3cret-pw");

    // Sending back what GET shows keeps the stored credential as it is.
    let shown = app.admin("GET", &url, None).await.body;
    let put = app.admin("PUT", &url, Some(shown.clone())).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(
        stored(&app, &id).await.1,
        secrets,
        "the very same ciphertext"
    );

    // The mask with a new endpoint or user is refused: the secret would go somewhere else.
    for (field, value) in [
        ("url", "https://evil.example.com"),
        ("username", "someone-else"),
        ("tokenUrl", "https://evil.example.com/oauth_token.do"),
    ] {
        let mut moved = shown.clone();
        moved["attributes"][field] = json!(value);
        let r = app.admin("PUT", &url, Some(moved)).await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(
            text.contains(&format!("attributes.{field} changed"))
                && text.contains("send attributes.password again"),
            "{text}"
        );
        let r = app
            .admin(
                "PATCH",
                &url,
                Some(json!([{"op": "replace", "path": format!("/attributes/{field}"), "value": value}])),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let mut retyped = shown.clone();
    retyped["type"] = json!("Web Service SDIM");
    let r = app.admin("PUT", &url, Some(retyped)).await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("type changed"));
    assert_eq!(stored(&app, &id).await.1, secrets, "nothing changed");

    // With the credential sent again, the endpoint may change.
    let r = app
        .admin(
            "PATCH",
            &url,
            Some(json!([
                {"op": "replace", "path": "/attributes/url", "value": "https://new.service-now.com"},
                {"op": "replace", "path": "/attributes/password", "value": "second-pw"}
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["attributes"]["password"], "********");
    assert_eq!(open(&app, &id, "/password").await.unwrap(), "second-pw");
    assert_ne!(stored(&app, &id).await.1["/password"], secrets["/password"]);

    // Switching to OAuth: new credentials are sealed; a PUT without the password drops it.
    let mut oauth = shown.clone();
    oauth["attributes"] = json!({"url": "https://new.service-now.com", "authType": "oauth2_refresh_token",
        "clientId": "cid", "clientSecret": "cs", "refreshToken": "rt", "password": null});
    let r = app.admin("PUT", &url, Some(oauth)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (attributes, secrets) = stored(&app, &id).await;
    assert_eq!(
        secrets.keys().collect::<Vec<_>>(),
        vec!["/clientSecret", "/refreshToken"]
    );
    assert!(attributes.get("password").is_none());
    assert_eq!(open(&app, &id, "/refreshToken").await.unwrap(), "rt");
}

#[tokio::test]
async fn sealed_credentials_do_not_open_elsewhere_or_when_tampered() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let a = create(&app, snow("A", &cat, &[])).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = create(&app, snow("B", &cat, &[])).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sealed_a = stored(&app, &a).await.1["/password"].clone();
    // A's ciphertext moved into B's row does not open there.
    let (moved, target) = (sealed_a.clone(), b.clone());
    app.state
        .store()
        .write(move |c| {
            c.execute(
                "update service_desk_integration set secrets = $1 where id = $2",
                &[
                    json!({"/password": moved}).to_string().into(),
                    target.into(),
                ],
            )
        })
        .await
        .unwrap();
    assert_eq!(open(&app, &b, "/password").await, Err(SealError::Forged));
    // Nor under another attribute, nor with one byte changed, nor under another master key.
    let tenant = app.tenant_id().await;
    let key = Keyring::single(MASTER_KEY).sealer(SEAL_PURPOSE);
    assert_eq!(
        key.open(&sealed_a, &seal_context(&tenant, &a, "/clientSecret"))
            .map(|_| ()),
        Err(SealError::Forged)
    );
    let mut bytes = sealed_a.clone().into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        key.open(&tampered, &seal_context(&tenant, &a, "/password"))
            .map(|_| ()),
        Err(SealError::Forged)
    );
    assert!(matches!(
        Keyring::single(b"another-master-key")
            .sealer(SEAL_PURPOSE)
            .open(&sealed_a, &seal_context(&tenant, &a, "/password")),
        Err(SealError::UnknownKey(_))
    ));
    assert_eq!(open(&app, &a, "/password").await.unwrap(), "s3cret-pw");
}

/// Every log line of this test binary, at TRACE, from every crate (the `log` crate's records
/// included). Shared by every test that looks for secrets in the logs: a process has one global
/// subscriber.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init()
            .expect("no other test installs a global subscriber");
        buf
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_canary_credential_appears_in_no_response_log_or_database_file() {
    let logs = captured_logs();
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let canary = format!("CANARY-{}", gatehouse_api::auth::secrets::new_secret());
    let mut bodies: Vec<(String, Reply)> = Vec::new();

    let mut body = snow("Canary desk", &cat, &[0]);
    body["attributes"]["password"] = json!(canary);
    let r = app
        .admin("POST", "/v3/service-desk-integrations", Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    bodies.push(("create".into(), r));
    let mut generic = json!({"name": "Canary generic", "description": "d", "type": "Web Service SDIM",
        "attributes": {"url": "https://desk.example.com", "authType": "apiKey", "apiKey": canary,
            "headers": {"Authorization": format!("Bearer {canary}")}, "vendorToken": canary}});
    let r = app
        .admin(
            "POST",
            "/beta/service-desk-integrations",
            Some(generic.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    bodies.push(("create generic".into(), r));

    // Refusals that carry the canary in the body they refuse.
    body["name"] = json!("canary desk");
    bodies.push((
        "duplicate".into(),
        app.admin("POST", "/v3/service-desk-integrations", Some(body.clone()))
            .await,
    ));
    generic["attributes"]["authType"] = json!(canary);
    bodies.push((
        "bad choice".into(),
        app.admin(
            "POST",
            "/v3/service-desk-integrations",
            Some(generic.clone()),
        )
        .await,
    ));
    generic["attributes"]["authType"] = json!("basic");
    generic["attributes"]["url"] = json!(canary);
    bodies.push((
        "bad url".into(),
        app.admin(
            "POST",
            "/v3/service-desk-integrations",
            Some(generic.clone()),
        )
        .await,
    ));
    generic["attributes"]["url"] = json!(format!("https://{canary}@desk.example.com"));
    bodies.push((
        "user info".into(),
        app.admin(
            "POST",
            "/v3/service-desk-integrations",
            Some(generic.clone()),
        )
        .await,
    ));
    generic["attributes"]["secretPin"] = json!(12345);
    bodies.push((
        "numeric secret".into(),
        app.admin("POST", "/v3/service-desk-integrations", Some(generic))
            .await,
    ));
    let broken = app
        .send(
            axum::http::Request::post("/v3/service-desk-integrations")
                .header("authorization", format!("Bearer {}", app.admin_token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(format!(
                    "{{\"attributes\": {{\"password\": \"{canary}\""
                )))
                .unwrap(),
        )
        .await;
    bodies.push(("broken json".into(), broken));

    for base in [
        "/v3/service-desk-integrations",
        "/v2024/service-desk-integrations",
        "/beta/service-desk-integrations",
        "/service-desk-integrations/v1",
    ] {
        let one = format!("{base}/{id}");
        let shown = app.admin("GET", &one, None).await;
        assert_eq!(shown.status, StatusCode::OK);
        let mut doc = shown.body.clone();
        if base.starts_with("/beta") {
            doc["id"] = json!(id);
        }
        bodies.push((format!("get {base}"), shown));
        bodies.push((
            format!("list {base}"),
            app.admin(
                "GET",
                &format!("{base}?count=true&filters=name%20eq%20%22Canary%20desk%22"),
                None,
            )
            .await,
        ));
        bodies.push((
            format!("put {base}"),
            app.admin("PUT", &one, Some(doc.clone())).await,
        ));
        let mut moved = doc.clone();
        moved["attributes"]["url"] = json!("https://evil.example.com");
        let refused = app.admin("PUT", &one, Some(moved)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        bodies.push((format!("put moved {base}"), refused));
        bodies.push((
            format!("patch {base}"),
            app.admin(
                "PATCH",
                &one,
                Some(json!([{"op": "replace", "path": "/description", "value": base}])),
            )
            .await,
        ));
        bodies.push((format!("patch moved {base}"), app.admin("PATCH", &one, Some(json!({"operations": [{"op": "replace", "path": "/attributes/url", "value": "https://evil.example.com"}]}))).await));
        bodies.push((
            format!("patch add {base}"),
            app.admin(
                "PATCH",
                &one,
                Some(json!([{"op": "add", "path": "/attributes/x", "value": 1}])),
            )
            .await,
        ));
        bodies.push((
            format!("types {base}"),
            app.admin("GET", &format!("{base}/types"), None).await,
        ));
        bodies.push((
            format!("template {base}"),
            app.admin("GET", &format!("{base}/templates/servicenow"), None)
                .await,
        ));
        bodies.push((
            format!("status {base}"),
            app.admin("GET", &format!("{base}/status-check-configuration"), None)
                .await,
        ));
        bodies.push((format!("status put {base}"), app.admin("PUT", &format!("{base}/status-check-configuration"), Some(json!({"provisioningStatusCheckIntervalMinutes": "30", "provisioningMaxStatusCheckDays": "2"}))).await));
    }
    bodies.push((
        "metrics".into(),
        app.call("GET", "/metrics", None, None).await,
    ));
    let temp = create(&app, snow("Temp", &cat, &[])).await;
    bodies.push((
        "delete".into(),
        app.admin(
            "DELETE",
            &format!(
                "/v3/service-desk-integrations/{}",
                temp["id"].as_str().unwrap()
            ),
            None,
        )
        .await,
    ));

    for (what, r) in &bodies {
        assert!(
            !r.text.contains(&canary),
            "{what} answered the canary: {}",
            r.text
        );
        assert!(
            !format!("{:?}", r.headers).contains(&canary),
            "{what} headers"
        );
    }
    let statuses: Vec<u16> = bodies.iter().map(|(_, r)| r.status.as_u16()).collect();
    for expected in [200, 204, 400, 403] {
        assert!(statuses.contains(&expected), "the calls covered {expected}");
    }

    // Logs at TRACE.
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        text.contains(&format!("created service desk integration {id}")),
        "the capture works"
    );
    assert!(!text.contains(&canary), "a log line holds the canary");

    // The database.
    if let Some(file) = app.sqlite_file() {
        let mut bytes = std::fs::read(&file).unwrap();
        let wal = file.with_file_name("gatehouse.db-wal");
        if wal.exists() {
            bytes.extend(std::fs::read(&wal).unwrap());
        }
        assert!(
            contains(&bytes, &id),
            "the integration is in the files read"
        );
        assert!(
            !contains(&bytes, &canary),
            "the SQLite file holds the canary in clear"
        );
    }
    if let Some(url) = app.pg_database_url() {
        let out = std::process::Command::new("pg_dump")
            .arg("--dbname")
            .arg(&url)
            .output()
            .expect("pg_dump (postgresql-client) is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(contains(&out.stdout, &id), "the integration is in the dump");
        assert!(
            contains(&out.stdout, "v2:"),
            "its sealed credentials are in the dump"
        );
        assert!(
            !contains(&out.stdout, &canary),
            "the dump holds the canary in clear"
        );
    }
}
