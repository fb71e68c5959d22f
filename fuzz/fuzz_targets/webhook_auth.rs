//! Fuzz target: the inbound service-desk webhook's credential check
//! (`handlers::service_desk_webhook::check_credential`), for each kind of inbound auth.
//!
//! Even first byte: the rest is the raw `Authorization` header value. Odd first byte: the rest
//! picks a scheme spelling, a WEBHOOK token or a signed access token (tenant, client, expiry and
//! use chosen by the input) and trailing blanks. Invariants:
//! - no inbound auth: always 401;
//! - WEBHOOK: accepted exactly when the API's own bearer parsing (`auth::bearer_token`) reads the
//!   integration's token from the header; the stored hash matches in either letter case;
//! - OAUTH2: accepted exactly when the bearer token verifies as a live access token of the
//!   integration's client in the integration's tenant;
//! - every refusal is a 401.

#![no_main]

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use gatehouse_api::auth::bearer_token;
use gatehouse_api::auth::jwt::{Claims, Signer};
use gatehouse_api::handlers::service_desk_webhook::check_credential;
use gatehouse_store::installed_integrations::{token_hash, InboundAuth};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzz-signing-key-0123456789abcdef";
const NOW: i64 = 1_800_000_000;
const TENANT: &str = "tenant-1";
const CLIENT: &str = "client-1";
const WEBHOOK_TOKEN: &str = "whk_0123456789abcdefABCDEF";

fn pick<'a>(u: &mut Unstructured<'_>, from: &[&'a str]) -> ArbResult<&'a str> {
    Ok(from[usize::from(u.arbitrary::<u8>()?) % from.len()])
}

fn access_token(u: &mut Unstructured<'_>, signer: &Signer) -> ArbResult<String> {
    let claims = Claims {
        tenant_id: pick(u, &[TENANT, "tenant-2", ""])?.to_owned(),
        org: "org".into(),
        pod: "pod".into(),
        internal: false,
        identity_id: None,
        user_name: None,
        authorities: vec![],
        client_id: pick(u, &[CLIENT, "client-2", ""])?.to_owned(),
        scope: vec!["sp:scopes:all".into()],
        strong_auth: false,
        strong_auth_supported: false,
        iat: NOW - 10,
        exp: NOW + i64::from(u.int_in_range(-100i16..=100)?),
        jti: "jti".into(),
        token_use: pick(u, &["access", "refresh"])?.to_owned(),
        ati: None,
        nbf: None,
    };
    Ok(signer.sign(&claims))
}

fn structured(rest: &[u8], signer: &Signer) -> ArbResult<Vec<u8>> {
    let mut u = Unstructured::new(rest);
    let scheme = pick(
        &mut u,
        &[
            "Bearer ", "bearer ", "BEARER ", "Bearer  ", "Basic ", "Bearer", "", " Bearer ",
        ],
    )?;
    let token = match u.arbitrary::<u8>()? % 3 {
        0 => WEBHOOK_TOKEN.to_owned(),
        1 => access_token(&mut u, signer)?,
        _ => u.arbitrary::<String>()?,
    };
    let tail = pick(&mut u, &["", " ", "\t", "  "])?;
    Ok(format!("{scheme}{token}{tail}").into_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let signer = Signer::new("k1".into(), KEY.to_vec());
    let value = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        match structured(rest, &signer) {
            Ok(v) => v,
            Err(_) => return,
        }
    };
    let mut headers = HeaderMap::new();
    let sent = HeaderValue::from_bytes(&value).ok();
    if let Some(v) = &sent {
        headers.insert(header::AUTHORIZATION, v.clone());
    }
    let token = bearer_token(&headers).map(str::to_owned);

    let check = |auth: &InboundAuth| {
        let r = check_credential(&signer, NOW, TENANT, auth, &headers);
        if let Err(e) = &r {
            assert_eq!(e.status(), StatusCode::UNAUTHORIZED, "{e:?}");
        }
        r.is_ok()
    };

    assert!(
        !check(&InboundAuth::None),
        "no inbound auth accepted {value:?}"
    );

    let hash = token_hash(WEBHOOK_TOKEN);
    let by_webhook = check(&InboundAuth::Webhook {
        token_hash: hash.clone(),
    });
    assert_eq!(
        by_webhook,
        token.as_deref() == Some(WEBHOOK_TOKEN),
        "webhook token check of {value:?} (guard reads {token:?})"
    );
    let by_upper = check(&InboundAuth::Webhook {
        token_hash: hash.to_ascii_uppercase(),
    });
    assert_eq!(by_webhook, by_upper);

    let by_oauth = check(&InboundAuth::OAuth2 {
        client_id: CLIENT.into(),
    });
    let expected = token.as_deref().is_some_and(|t| {
        signer
            .verify(t, NOW, "access")
            .is_ok_and(|c| c.client_id == CLIENT && c.tenant_id == TENANT)
    });
    assert_eq!(
        by_oauth, expected,
        "OAuth2 check of {value:?} (guard reads {token:?})"
    );
});
