//! Tokens: the three request forms, refresh, bad credentials, and refusal of bad tokens.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::{bootstrap, ApiConfig};
use gatehouse_domain::sealed::Keyring;
use gatehouse_store::keys;
use serde_json::json;

async fn token_reply(app: &TestApp, req: Request<Body>) -> Reply {
    app.send(req).await
}

#[tokio::test]
async fn token_is_issued_for_form_multipart_query_and_basic() {
    let app = TestApp::new().await;
    let form = token_reply(
        &app,
        Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "grant_type=client_credentials&client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}"
            )))
            .unwrap(),
    )
    .await;
    let boundary = "XyZ";
    let mut mp = String::new();
    for (k, v) in [
        ("grant_type", "client_credentials"),
        ("client_id", ADMIN_ID),
        ("client_secret", ADMIN_SECRET),
    ] {
        mp.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    mp.push_str(&format!("--{boundary}--\r\n"));
    let multipart = token_reply(
        &app,
        Request::post("/oauth/token")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(mp))
            .unwrap(),
    )
    .await;
    let query = token_reply(
        &app,
        Request::post(format!(
            "/oauth/token?grant_type=client_credentials&client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}"
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ADMIN_ID}:{ADMIN_SECRET}"));
    let basic = token_reply(
        &app,
        Request::post("/oauth/token")
            .header("authorization", format!("Basic {basic}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("grant_type=client_credentials"))
            .unwrap(),
    )
    .await;
    for r in [form, multipart, query, basic] {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["token_type"], "bearer");
        assert_eq!(r.body["expires_in"], 43_200);
        assert_eq!(r.body["scope"], "sp:scopes:all");
        assert_eq!(r.body["identity_id"], app.admin_identity.as_str());
        assert_eq!(r.body["user_name"], "admin");
        assert!(r.body["jti"].is_string() && r.body["tenant_id"].is_string());
        let token = r.body["access_token"].as_str().unwrap();
        let ok = app
            .call("GET", "/v3/oauth-clients", Some(token), None)
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    }
}

#[tokio::test]
async fn token_endpoint_refuses_bad_credentials_and_grants() {
    let app = TestApp::new().await;
    let post = |body: String| {
        Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let bad = app
        .send(post(format!(
            "grant_type=client_credentials&client_id={ADMIN_ID}&client_secret=wrong"
        )))
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.body["error"], "invalid_client");
    let unknown = app
        .send(post(
            "grant_type=client_credentials&client_id=nobody&client_secret=x".into(),
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let grant = app
        .send(post("grant_type=password&username=a&password=b".into()))
        .await;
    assert_eq!(grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(grant.body["error"], "unsupported_grant_type");
    let missing = app
        .send(post(format!(
            "grant_type=client_credentials&client_id={ADMIN_ID}"
        )))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(!bad.text.contains(ADMIN_SECRET));
}

#[tokio::test]
async fn refresh_token_grant_issues_a_new_access_token() {
    let app = TestApp::new().await;
    let created = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(json!({"name": "r", "description": null, "accessTokenValiditySeconds": 600,
                "grantTypes": ["CLIENT_CREDENTIALS", "REFRESH_TOKEN"], "accessType": "OFFLINE", "enabled": true})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let (id, secret) = (
        created.body["id"].as_str().unwrap(),
        created.body["secret"].as_str().unwrap(),
    );
    let first = app
        .send(
            Request::post(format!(
                "/oauth/token?grant_type=client_credentials&client_id={id}&client_secret={secret}"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(
        first.body.get("identity_id").is_none(),
        "an API client has no user context"
    );
    let refresh = first.body["refresh_token"].as_str().unwrap();
    let again = app
        .send(
            Request::post(format!(
                "/oauth/token?grant_type=refresh_token&client_id={id}&refresh_token={refresh}"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let api_token = again.body["access_token"].as_str().unwrap();
    // The refresh token is no access token.
    let r = app
        .call(
            "GET",
            &format!("/v3/oauth-clients/{id}"),
            Some(refresh),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // API clients may read a client (applicationAuth) but not list them (user context needed).
    let r = app
        .call(
            "GET",
            &format!("/v3/oauth-clients/{id}"),
            Some(api_token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call("GET", "/v3/oauth-clients", Some(api_token), None)
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn missing_expired_garbage_and_unsigned_tokens_get_401() {
    let app = TestApp::new().await;
    let expired = app.forged(|c| {
        c.iat -= 7_200;
        c.exp -= 7_200;
    });
    let parts: Vec<String> = app.admin_token.split('.').map(str::to_owned).collect();
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    let tampered = {
        let mut claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&parts[1])
                .unwrap(),
        )
        .unwrap();
        claims["authorities"] = json!(["ORG_ADMIN", "SOURCE_ADMIN"]);
        format!("{}.{}.{}", parts[0], b64(claims), parts[2])
    };
    let future = app.forged(|c| c.nbf = Some(c.iat + 3_600));
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "no bearer token"),
        (Some(expired), "JWT validation failed: JWT is expired"),
        (Some("garbage".into()), "JWT is malformed"),
        (Some(alg_none), "signature"),
        (Some(tampered), "signature"),
        (Some(future), "not yet valid"),
    ];
    for (token, expect) in cases {
        let r = app
            .call("GET", "/v3/oauth-clients", token.as_deref(), None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{expect}: {}", r.text);
        let text = r.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{{error}} body: {}", r.text));
        assert!(text.contains(expect), "{text} should contain {expect}");
        assert_eq!(r.body.as_object().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_person_without_the_user_level_gets_403() {
    let app = TestApp::new().await;
    let (_, user) = app.person("pat", &["USER"]).await;
    let r = app
        .call("GET", "/v3/service-desk-integrations", Some(&user), None)
        .await;
    let text = assert_error(&r, StatusCode::FORBIDDEN);
    assert!(text.contains("ORG_ADMIN"), "{text}");
    let r = app
        .call("GET", "/v3/oauth-clients", Some(&user), None)
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    let r = app
        .call("POST", "/gatehouse/v1/tenant/reset", Some(&user), None)
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    let (_, sd_admin) = app.person("desk", &["SERVICE_DESK_ADMIN"]).await;
    let r = app
        .call(
            "GET",
            "/v3/service-desk-integrations",
            Some(&sd_admin),
            None,
        )
        .await;
    assert_ne!(
        r.status,
        StatusCode::FORBIDDEN,
        "the service-desk admin level is enough: {}",
        r.text
    );
    let narrow = app.forged(|c| c.scope = vec!["sp:scopes:default".into()]);
    let r = app
        .call("GET", "/v3/service-desk-integrations", Some(&narrow), None)
        .await;
    let text = assert_error(&r, StatusCode::FORBIDDEN);
    assert!(text.contains("idn:service-desk-integration:read"), "{text}");
}

#[tokio::test]
async fn past_the_rate_limit_answers_429_with_retry_after() {
    let app = TestApp::with(ApiConfig {
        rate_limit: "3/10s".parse::<RateLimit>().unwrap(),
        ..ApiConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.admin("GET", "/v3/oauth-clients", None).await);
    }
    assert!(statuses[..3].iter().all(|r| r.status == StatusCode::OK));
    let limited = &statuses[3];
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body, json!({"message": " Rate Limit Exceeded "}));
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
}

/// The signing key's row: its id and its secret as stored.
async fn stored_signing_key(app: &TestApp) -> (String, String) {
    app.state
        .store()
        .read(|c| {
            let row = c.query_one("select id, secret from signing_key", &[])?;
            Ok((row.text(0)?, row.text(1)?))
        })
        .await
        .unwrap()
}

/// The signing key, read from the store and opened with the master key as a replica would.
async fn signing_key(app: &TestApp) -> Vec<u8> {
    let (id, sealed) = stored_signing_key(app).await;
    let key = app.state.keyring().sealer(bootstrap::SIGNING_KEY_PURPOSE);
    let hex = key.open(&sealed, id.as_bytes()).unwrap();
    gatehouse_api::auth::secrets::unhex(hex.expose()).unwrap()
}

/// SEC-3 for the token-signing key: stored sealed with the master key (a copy of the database
/// cannot sign tokens); a key stored in clear by an earlier version is sealed at the next start
/// and tokens it signed stay valid; a master key other than the database's stops the start.
#[tokio::test]
async fn the_signing_key_is_stored_sealed_and_a_clear_one_is_sealed_at_start() {
    let app = TestApp::new().await;
    let (id, stored) = stored_signing_key(&app).await;
    let sealed_prefix = format!("v2:{}:", app.state.keyring().primary().id());
    assert!(
        stored.starts_with(&sealed_prefix),
        "stored sealed: {stored}"
    );
    let key = signing_key(&app).await;
    assert_eq!(key.len(), 32);
    assert!(!stored.contains(&gatehouse_api::auth::secrets::hex(&key)));

    // As an earlier version left it: the key in clear. A token signed with it before the start.
    let clear = gatehouse_api::auth::secrets::hex(&key);
    let (i, c2) = (id.clone(), clear.clone());
    app.state
        .store()
        .write(move |c| keys::replace_secret(c, &i, &stored, &c2))
        .await
        .unwrap();
    let now = gatehouse_domain::Clock::now(&gatehouse_domain::SystemClock);
    let prepared = bootstrap::prepare(app.state.store(), app.state.keyring(), now, None)
        .await
        .unwrap();
    let (_, resealed) = stored_signing_key(&app).await;
    assert!(
        resealed.starts_with(&sealed_prefix) && !resealed.contains(&clear),
        "{resealed}"
    );
    assert_eq!(signing_key(&app).await, key, "the same key, sealed");
    let token = app.admin_token.clone();
    assert!(prepared
        .signer
        .verify(&token, now.unix_seconds(), "access")
        .is_ok());

    // Another master key: the key does not open and start-up stops with the reason.
    let e = bootstrap::prepare(
        app.state.store(),
        &Keyring::single(b"another-master-key-another-maste"),
        now,
        None,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("master key"), "{e}");
}

/// SEC-4: the key client, token and webhook secrets are hashed with is kept in the store, sealed
/// under the master key, so a master key's rotation leaves every hash valid. A fresh database
/// gets a random one; a database from before it was stored hashed with the master key itself,
/// which start-up keeps (found as the key that opens the signing key), so its secrets still verify.
#[tokio::test]
async fn the_secret_hash_key_outlives_the_master_key_and_an_older_database_keeps_its_hashes() {
    use gatehouse_api::auth::secrets;
    let app = TestApp::new().await;
    assert_eq!(app.state.secret_hash_key().len(), 32);
    assert_ne!(
        app.state.secret_hash_key(),
        MASTER_KEY,
        "a fresh database: a random key"
    );
    let sealed: String = app
        .state
        .store()
        .read(|c| {
            c.query_one(
                "select sealed from sealed_key where name = 'secret-hash-key'",
                &[],
            )?
            .text(0)
        })
        .await
        .unwrap();
    let hash_key_hex = secrets::hex(app.state.secret_hash_key());
    assert!(
        sealed.starts_with(&format!("v2:{}:", app.state.keyring().primary().id()))
            && !sealed.contains(&hash_key_hex),
        "{sealed}"
    );

    // As an earlier version left a database: a secret hashed with the master key, no stored key.
    let old_hash = secrets::hash_secret(MASTER_KEY, "an-old-secret");
    app.state
        .store()
        .write(|c| c.execute("delete from sealed_key", &[]))
        .await
        .unwrap();
    let now = gatehouse_domain::Clock::now(&gatehouse_domain::SystemClock);
    let prepared = bootstrap::prepare(app.state.store(), app.state.keyring(), now, None)
        .await
        .unwrap();
    assert_eq!(prepared.keys.hash_key(), MASTER_KEY);
    assert!(secrets::verify_secret(
        prepared.keys.hash_key(),
        "an-old-secret",
        &old_hash
    ));
    // And it is kept: the next start (under a rotated ring) reads the same key.
    let rotated = Keyring::new(
        gatehouse_domain::sealed::MasterKey::new(b"a-new-master-key-a-new-master-key".to_vec()),
        vec![gatehouse_domain::sealed::MasterKey::new(
            MASTER_KEY.to_vec(),
        )],
    );
    let again = bootstrap::prepare(app.state.store(), &rotated, now, None)
        .await
        .unwrap();
    assert_eq!(again.keys.hash_key(), MASTER_KEY);
}

fn hs256(key: &[u8], header: &serde_json::Value, payload: &serde_json::Value) -> String {
    use hmac::{Hmac, Mac};
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let input = format!("{}.{}", b64(header), b64(payload));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{sig}")
}

/// AUTH-3: crafted tokens, each refused with 401; a control token signed the same way is accepted,
/// so the refusals are about the one thing each case changes.
#[tokio::test]
async fn crafted_tokens_are_all_refused() {
    let app = TestApp::new().await;
    let key = signing_key(&app).await;
    let parts: Vec<&str> = app.admin_token.split('.').collect();
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let good_header = json!({"alg": "HS256", "typ": "JWT", "kid": "gatehouse-1"});
    let control = hs256(&key, &good_header, &payload);
    let r = app
        .call("GET", "/v3/oauth-clients", Some(&control), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "control token: {}", r.text);

    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut p = payload.clone();
        edit(&mut p);
        p
    };
    let now = payload["iat"].as_i64().unwrap();
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let refresh = {
        let mut p = payload.clone();
        p["token_use"] = json!("refresh");
        hs256(&key, &good_header, &p)
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none, no signature",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                parts[1]
            ),
        ),
        (
            "alg none, old signature",
            format!("{}.{}.{}", b64(&json!({"alg": "none"})), parts[1], parts[2]),
        ),
        (
            "alg NONE",
            hs256(&key, &json!({"alg": "NONE", "typ": "JWT"}), &payload),
        ),
        (
            "alg HS512 label",
            hs256(&key, &json!({"alg": "HS512", "typ": "JWT"}), &payload),
        ),
        (
            "alg RS256 label",
            hs256(&key, &json!({"alg": "RS256", "typ": "JWT"}), &payload),
        ),
        ("another key", hs256(b"not-the-key", &good_header, &payload)),
        (
            "unknown kid",
            hs256(
                &key,
                &json!({"alg": "HS256", "typ": "JWT", "kid": "other"}),
                &payload,
            ),
        ),
        (
            "jku injection",
            hs256(
                &key,
                &json!({"alg": "HS256", "jku": "http://169.254.169.254/k"}),
                &payload,
            ),
        ),
        (
            "jwk injection",
            hs256(
                &key,
                &json!({"alg": "HS256", "jwk": {"kty": "oct", "k": "AA"}}),
                &payload,
            ),
        ),
        (
            "x5u injection",
            hs256(
                &key,
                &json!({"alg": "HS256", "x5u": "http://example.invalid/c"}),
                &payload,
            ),
        ),
        (
            "crit header",
            hs256(&key, &json!({"alg": "HS256", "crit": ["exp"]}), &payload),
        ),
        (
            "typ not JWT",
            hs256(
                &key,
                &json!({"alg": "HS256", "typ": "refresh+jwt"}),
                &payload,
            ),
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&with(
                    &|p| p["authorities"] = json!(["ORG_ADMIN", "HELPDESK"])
                )),
                parts[2]
            ),
        ),
        ("stripped signature", format!("{}.{}.", parts[0], parts[1])),
        (
            "signature of another token",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&with(&|p| p["jti"] = json!("x"))),
                parts[2]
            ),
        ),
        (
            "expired beyond leeway",
            hs256(&key, &good_header, &with(&|p| p["exp"] = json!(now - 120))),
        ),
        (
            "not before in the future",
            hs256(
                &key,
                &good_header,
                &with(&|p| p["nbf"] = json!(now + 3_600)),
            ),
        ),
        (
            "no exp",
            hs256(
                &key,
                &good_header,
                &with(&|p| {
                    p.as_object_mut().unwrap().remove("exp");
                }),
            ),
        ),
        (
            "no tenant",
            hs256(
                &key,
                &good_header,
                &with(&|p| {
                    p.as_object_mut().unwrap().remove("tenant_id");
                }),
            ),
        ),
        ("refresh token as access token", refresh),
        ("two parts", format!("{}.{}", parts[0], parts[1])),
        ("four parts", format!("{}.x", app.admin_token)),
        (
            "payload not base64url",
            format!("{}.%%%.{}", parts[0], parts[2]),
        ),
        ("payload not JSON", hs256_raw(&key, parts[0], "bm90IGpzb24")),
        (
            "oversized",
            format!("{}.{}.{}", parts[0], "A".repeat(9_000), parts[2]),
        ),
        ("empty", String::new()),
    ];
    assert!(cases.len() >= 20);
    for (name, token) in cases {
        let r = app
            .call("GET", "/v3/oauth-clients", Some(&token), None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: {}", r.text);
        assert!(
            r.body["error"]
                .as_str()
                .unwrap()
                .starts_with("JWT validation failed"),
            "{name}: {}",
            r.text
        );
    }
    let basic = app
        .send(
            Request::get("/v3/oauth-clients")
                .header(
                    "authorization",
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode("a:b")
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        basic.status,
        StatusCode::UNAUTHORIZED,
        "Basic is not a bearer token"
    );
}

fn hs256_raw(key: &[u8], header_b64: &str, payload_b64: &str) -> String {
    use hmac::{Hmac, Mac};
    let input = format!("{header_b64}.{payload_b64}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{sig}")
}

/// AUTH-4 (docs/RELIABILITY.md): past 10 failed token requests a minute for one client id, the
/// token endpoint answers 429 for that id (the right secret too, until the window refills); other
/// clients are unaffected. An API client's token never carries a user level. Stored secrets are
/// compared in constant time.
#[tokio::test]
async fn failed_token_requests_are_limited_per_client_and_api_clients_hold_no_level() {
    let app = TestApp::new().await;
    let form = |id: &str, secret: &str| {
        axum::http::Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(format!(
                "grant_type=client_credentials&client_id={id}&client_secret={secret}"
            )))
            .unwrap()
    };
    for n in 0..10 {
        let r = app.send(form(ADMIN_ID, &format!("wrong-{n}"))).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{n}: {}", r.text);
        assert_eq!(r.body["error"], "invalid_client");
    }
    for secret in ["wrong-again", ADMIN_SECRET] {
        let r = app.send(form(ADMIN_ID, secret)).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
        let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
    // Another client id is not affected.
    let client = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(
                json!({"name": "api", "description": "AUTH-4", "accessTokenValiditySeconds": 750,
                        "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE",
                        "enabled": true}),
            ),
        )
        .await;
    assert_eq!(client.status, StatusCode::OK, "{}", client.text);
    let token = app
        .token(
            client.body["id"].as_str().unwrap(),
            client.body["secret"].as_str().unwrap(),
        )
        .await;
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(payload["identity_id"].is_null(), "{payload}");
    let levels = payload["authorities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !levels.iter().any(|l| l == "ORG_ADMIN"),
        "an API client holds no user level: {payload}"
    );
    let r = app
        .call("GET", "/gatehouse/v1/tenant/snapshots", Some(&token), None)
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);

    // Constant-time comparison of stored secrets.
    let src = |p: &str| {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap()
    };
    assert!(src("src/auth/secrets.rs").contains("ct_eq("));
    for p in [
        "src/auth/secrets.rs",
        "src/handlers/token.rs",
        "src/handlers/service_desk_webhook.rs",
    ] {
        let text = src(p);
        for bad in [
            "hash ==",
            "== hash",
            "secret ==",
            "== secret",
            "token ==",
            "== token",
        ] {
            assert!(!text.contains(bad), "{p} compares with `{bad}`");
        }
    }
}

/// LOAD-4 (docs/RELIABILITY.md): with a limit of L per window, 3·L calls by one client admit
/// exactly L; the rest are 429 with a whole `Retry-After` within the window, and another client
/// is not affected meanwhile.
#[tokio::test]
async fn one_throttled_client_leaves_the_others_alone() {
    let app = TestApp::with(ApiConfig {
        rate_limit: "5/10s".parse::<RateLimit>().unwrap(),
        ..ApiConfig::default()
    })
    .await;
    let (_, one) = app.person("throttled.client", &["USER"]).await;
    let (_, other) = app.person("other.client", &["USER"]).await;
    let mut admitted = 0;
    for _ in 0..15 {
        let r = app
            .call("GET", "/v3/personal-access-tokens", Some(&one), None)
            .await;
        match r.status {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=10).contains(&wait), "{wait}");
            }
            s => panic!("{s}: {}", r.text),
        }
    }
    assert_eq!(admitted, 5, "admitted of 15");
    for _ in 0..3 {
        let r = app
            .call("GET", "/v3/personal-access-tokens", Some(&other), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
}

/// LOAD-4: 3·L calls at once by one client admit exactly L (the bucket refills one call per
/// 30 s here, so none in the test's time); a call sent again after the `Retry-After` of its 429 is
/// admitted.
#[tokio::test]
async fn concurrent_calls_are_not_over_admitted_and_a_retry_after_the_wait_is_admitted() {
    let app = TestApp::with(ApiConfig {
        rate_limit: "20/10m".parse::<RateLimit>().unwrap(),
        ..ApiConfig::default()
    })
    .await;
    let (_, one) = app.person("burst.client", &["USER"]).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..60 {
        let (state, token) = (app.state.clone(), one.clone());
        set.spawn(async move {
            let req = Request::get("/v3/personal-access-tokens")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            tower::ServiceExt::oneshot(gatehouse_api::app(state), req)
                .await
                .unwrap()
                .status()
        });
    }
    let (mut admitted, mut limited) = (0, 0);
    while let Some(status) = set.join_next().await {
        match status.unwrap() {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            s => panic!("{s}"),
        }
    }
    assert_eq!((admitted, limited), (20, 40), "of 60 at once");

    let app = TestApp::with(ApiConfig {
        rate_limit: "2/2s".parse::<RateLimit>().unwrap(),
        ..ApiConfig::default()
    })
    .await;
    let (_, two) = app.person("patient.client", &["USER"]).await;
    let call = || app.call("GET", "/v3/personal-access-tokens", Some(&two), None);
    assert_eq!(call().await.status, StatusCode::OK);
    assert_eq!(call().await.status, StatusCode::OK);
    let limited = call().await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    let again = call().await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "after Retry-After: {}",
        again.text
    );
}

/// IN-2 (schemathesis with a USER token) found these admin-only operations reading the body
/// before deciding who may call: a USER sending no body, a body that is not JSON or one of the
/// wrong shape got a 400 that described the body instead of the 403. The caller is decided
/// first now, whatever the body, and nothing is stored.
#[tokio::test]
async fn a_non_admin_is_refused_before_the_body_of_an_admin_only_operation_is_read() {
    let app = TestApp::new().await;
    let (_, user) = app.person("ida.user", &["USER"]).await;
    let client = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(json!({
                "name": "kept", "description": "d", "accessTokenValiditySeconds": 3600,
                "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": true
            })),
        )
        .await;
    assert_eq!(client.status, StatusCode::OK, "{}", client.text);
    let client_id = client.body["id"].as_str().unwrap().to_owned();
    let bodies: [(Option<&str>, &str); 4] = [
        (None, ""),
        (Some("application/json"), "{not json"),
        (Some("application/json"), r#"{"name": 42}"#),
        (Some("text/plain"), "name=x"),
    ];
    let routes = [
        ("POST", "/v3/oauth-clients".to_owned()),
        ("POST", "/beta/oauth-clients".to_owned()),
        ("POST", "/oauth-clients/v1".to_owned()),
        ("PATCH", format!("/v3/oauth-clients/{client_id}")),
        ("PATCH", format!("/oauth-clients/v1/{client_id}")),
        (
            "POST",
            "/v2024/access-request-approvals/bulk-approve".to_owned(),
        ),
        (
            "POST",
            "/access-request-approvals/v1/bulk-approve".to_owned(),
        ),
    ];
    for (method, path) in &routes {
        for (ct, body) in bodies {
            let mut req = Request::builder()
                .method(*method)
                .uri(path.as_str())
                .header("authorization", format!("Bearer {user}"));
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            let r = app.send(req.body(Body::from(body)).unwrap()).await;
            let text = assert_error(&r, StatusCode::FORBIDDEN);
            assert!(
                text.contains("ORG_ADMIN"),
                "{method} {path} with {ct:?} {body:?}: {text}"
            );
        }
    }
    let clients = app.admin("GET", "/v3/oauth-clients", None).await;
    assert_eq!(clients.status, StatusCode::OK, "{}", clients.text);
    let names: Vec<&str> = clients
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"kept") && !names.contains(&"x"),
        "{names:?}"
    );
}
