//! SEC-5 (docs/RELIABILITY.md): the `Debug` of everything that holds a desk credential in clear
//! (authentication, the loaded integration, an outbound request) shows no credential, so a stray
//! `{:?}` in a log line cannot leak one.

use gatehouse_desk::auth::Auth;
use gatehouse_desk::http::Call;
use gatehouse_desk::protocol::{Flavor, Link};
use reqwest::Method;
use serde_json::{json, Map, Value};

const CANARY: &str = "CANARY-6f1d2a9c0b8e47d3a5c2e19f7b04d8aa";

fn attrs(v: Value) -> Map<String, Value> {
    let Value::Object(m) = v else { unreachable!() };
    m
}

#[test]
fn debug_output_shows_no_credential() {
    let c = CANARY;
    let cases = [
        json!({"url": "https://d.example", "authType": "basic", "username": "u", "password": c}),
        json!({"url": "https://d.example", "authType": "bearer", "token": c}),
        json!({"url": "https://d.example", "authType": "apiKey", "apiKey": c}),
        json!({"url": "https://d.example", "authType": "oauth2_client_credentials",
               "tokenUrl": "https://d.example/t", "clientId": "id", "clientSecret": c}),
        json!({"url": "https://d.example", "authType": "oauth2_password", "username": "u",
               "password": c, "clientId": "id", "clientSecret": c}),
        json!({"url": "https://d.example", "authType": "oauth2_refresh_token",
               "refreshToken": c, "clientId": "id", "clientSecret": c}),
    ];
    for case in cases {
        let a = attrs(case.clone());
        let auth = Auth::from_attributes(&a, "password", Some("/oauth/token"))
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(
            auth.secrets().iter().any(|s| s == CANARY),
            "the case holds the canary: {case}"
        );
        let link = Link {
            id: "i".into(),
            flavor: Flavor::Generic,
            attrs: a,
            auth: auth.clone(),
        };
        for text in [
            format!("{auth:?}"),
            format!("{auth:#?}"),
            format!("{link:?}"),
            format!("{link:#?}"),
        ] {
            assert!(!text.contains(CANARY), "{case}: {text}");
        }
    }
    let mut call = Call::new(Method::POST, "https://d.example/oauth/token".into());
    call.headers
        .push(("Authorization".into(), format!("Bearer {CANARY}")));
    call.form = Some(vec![
        ("client_secret".into(), CANARY.into()),
        ("password".into(), CANARY.into()),
    ]);
    call.json = Some(json!({"apiToken": CANARY}));
    let text = format!("{call:?}");
    assert!(!text.contains(CANARY), "{text}");
    assert!(
        text.contains("client_secret") && text.contains("Authorization"),
        "{text}"
    );
}
