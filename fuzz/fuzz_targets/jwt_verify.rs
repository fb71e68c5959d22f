//! Fuzz target: the server's bearer-token verification (`auth::jwt::Signer::verify`, with a fixed
//! key) and the request guard's `Authorization` parsing (`auth::bearer_token`).
//!
//! Even first byte: the rest is token text. Whatever `verify` accepts must carry an HS256 header
//! we accept, an HMAC-SHA256 signature (computed here with the `hmac` crate) by the key, the
//! requested `token_use` and a live `exp`/`nbf`. `bearer_token` yields a trimmed token only for the
//! `Bearer` scheme.
//!
//! Odd first byte: the rest builds claims, which are signed; `verify` must answer exactly what the
//! claims imply (the claims back, or Expired, NotYetValid or WrongUse), another key or key id must
//! refuse the token, and any single-byte change, truncation or extension of it must be refused.

#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_api::auth::bearer_token;
use gatehouse_api::auth::jwt::{Claims, JwtError, Signer, LEEWAY_SECONDS, MAX_TOKEN_LEN};
use hmac::{Hmac, Mac};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const KEY: &[u8] = b"fuzz-signing-key-0123456789abcdef";
const NOW: i64 = 1_800_000_000;

fn signer() -> Signer {
    Signer::new("k1".into(), KEY.to_vec())
}

/// Independent check that `token` is signed by `KEY` and has a header we accept.
fn assert_signed_by_key(token: &str) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token:?}");
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    let expected = mac.finalize().into_bytes();
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature decodes");
    assert_eq!(sig.as_slice(), expected.as_slice(), "{token:?}");
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256", "{token:?}");
    for k in ["jku", "jwk", "x5u", "x5c", "crit"] {
        assert!(
            header.get(k).is_none_or(serde_json::Value::is_null),
            "{k} in {token:?}"
        );
    }
    assert!(
        header.get("kid").is_none_or(|k| k.is_null() || k == "k1"),
        "{token:?}"
    );
}

fn assert_live(c: &Claims, token_use: &str) {
    assert_eq!(c.token_use, token_use);
    assert!(
        c.exp + LEEWAY_SECONDS > NOW,
        "expired token accepted: {c:?}"
    );
    assert!(c.nbf.is_none_or(|n| n <= NOW + LEEWAY_SECONDS), "{c:?}");
}

fn text_token(rest: &[u8]) {
    let s = signer();
    if let Ok(token) = std::str::from_utf8(rest) {
        for token_use in ["access", "refresh"] {
            match s.verify(token, NOW, token_use) {
                Ok(c) => {
                    assert_signed_by_key(token);
                    assert_live(&c, token_use);
                }
                Err(e) => assert!(e.text().starts_with("JWT validation failed")),
            }
        }
    }
    // The guard's reading of the Authorization header.
    if let Ok(v) = HeaderValue::from_bytes(rest) {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.clone());
        if let Some(t) = bearer_token(&h) {
            let raw = v
                .to_str()
                .expect("a token comes from a visible-ASCII header");
            assert!(
                raw.len() > 6 && raw[..7].eq_ignore_ascii_case("bearer "),
                "{raw:?}"
            );
            assert_eq!(t, t.trim());
            assert_eq!(t, raw[7..].trim(), "{raw:?}");
        }
    }
}

fn pick<'a>(u: &mut Unstructured<'_>, from: &[&'a str]) -> ArbResult<&'a str> {
    Ok(from[usize::from(u.arbitrary::<u8>()?) % from.len()])
}

fn claims(u: &mut Unstructured<'_>) -> ArbResult<Claims> {
    Ok(Claims {
        tenant_id: u.arbitrary()?,
        org: u.arbitrary()?,
        pod: u.arbitrary()?,
        internal: u.arbitrary()?,
        identity_id: u.arbitrary()?,
        user_name: u.arbitrary()?,
        authorities: u.arbitrary()?,
        client_id: u.arbitrary()?,
        scope: u.arbitrary()?,
        strong_auth: u.arbitrary()?,
        strong_auth_supported: u.arbitrary()?,
        iat: u.arbitrary()?,
        exp: NOW + i64::from(u.int_in_range(-100i16..=100)?),
        jti: u.arbitrary()?,
        token_use: pick(u, &["access", "refresh", "id", ""])?.to_owned(),
        ati: u.arbitrary()?,
        nbf: if u.arbitrary()? {
            Some(NOW + i64::from(u.int_in_range(-100i16..=100)?))
        } else {
            None
        },
    })
}

fn signed_token(rest: &[u8]) -> ArbResult<()> {
    let mut u = Unstructured::new(rest);
    let c = claims(&mut u)?;
    let s = signer();
    let token = s.sign(&c);
    let expected = if token.len() > MAX_TOKEN_LEN {
        // Longer than the verifier reads (the claims here may be far larger than real ones).
        Err(JwtError::Malformed)
    } else if c.exp + LEEWAY_SECONDS <= NOW {
        Err(JwtError::Expired)
    } else if c.nbf.is_some_and(|n| n > NOW + LEEWAY_SECONDS) {
        Err(JwtError::NotYetValid)
    } else if c.token_use != "access" {
        Err(JwtError::WrongUse)
    } else {
        Ok(c.clone())
    };
    assert_eq!(s.verify(&token, NOW, "access"), expected);
    if token.len() <= MAX_TOKEN_LEN {
        let other_key = Signer::new("k1".into(), b"another-key".to_vec());
        assert_eq!(
            other_key.verify(&token, NOW, "access"),
            Err(JwtError::BadSignature)
        );
        let other_kid = Signer::new("k2".into(), KEY.to_vec());
        assert_eq!(
            other_kid.verify(&token, NOW, "access"),
            Err(JwtError::BadSignature)
        );
    }

    // Tampering: one byte replaced, the token cut, or something appended.
    let mut bytes = token.clone().into_bytes();
    let at = usize::from(u.arbitrary::<u16>()?) % bytes.len();
    let byte: u8 = u.arbitrary()?;
    let tampered = match u.arbitrary::<u8>()? % 3 {
        0 => {
            bytes[at] = byte;
            bytes
        }
        1 => {
            bytes.truncate(at);
            bytes
        }
        _ => {
            bytes.insert(at, byte);
            bytes
        }
    };
    if let Ok(t) = String::from_utf8(tampered) {
        if t != token {
            let r = s.verify(&t, NOW, "access");
            assert!(
                r.is_err(),
                "tampered token {t:?} of {token:?} verified: {r:?}"
            );
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        text_token(rest);
    } else {
        let _ = signed_token(rest);
    }
});
