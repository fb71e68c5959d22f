//! Access and refresh tokens: HS256 JWTs signed with the key kept in the store.
//!
//! Verification accepts exactly one header shape (`alg` HS256, our `kid` if any, no `jku`, `jwk`,
//! `x5u`, `x5c` or `crit`), checks the signature in constant time, then `exp`, `nbf` and the token
//! use. Expiry is judged by the wall clock, not the virtual clock, so moving business time in a
//! test never invalidates the tokens a client holds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: i64 = 30;
/// The longest token we read, in bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The claims of a Gatehouse token (SailPoint's names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant name.
    pub org: String,
    /// Pod name.
    pub pod: String,
    /// Internal client.
    pub internal: bool,
    /// The person, for user-context tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    /// The person's user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// User levels.
    pub authorities: Vec<String>,
    /// OAuth client or PAT id.
    pub client_id: String,
    /// Granted scopes.
    pub scope: Vec<String>,
    /// Strong auth.
    pub strong_auth: bool,
    /// Strong auth supported.
    pub strong_auth_supported: bool,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Token id.
    pub jti: String,
    /// `access` or `refresh`.
    pub token_use: String,
    /// For refresh tokens: the id of the access token issued with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ati: Option<String>,
    /// Not before (seconds), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    jku: Option<serde_json::Value>,
    #[serde(default)]
    jwk: Option<serde_json::Value>,
    #[serde(default)]
    x5u: Option<serde_json::Value>,
    #[serde(default)]
    x5c: Option<serde_json::Value>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Why a token was refused; the texts are SailPoint's 401 `error` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    Malformed,
    /// Wrong algorithm, a header we do not accept, or a bad signature.
    BadSignature,
    /// Past `exp`.
    Expired,
    /// Before `nbf`.
    NotYetValid,
    /// A refresh token where an access token is needed, or the reverse.
    WrongUse,
}

impl JwtError {
    /// The 401 body's `error` text.
    pub fn text(self) -> &'static str {
        match self {
            Self::Malformed => "JWT validation failed: JWT is malformed",
            Self::BadSignature => "JWT validation failed: JWT signature does not match",
            Self::Expired => "JWT validation failed: JWT is expired",
            Self::NotYetValid => "JWT validation failed: JWT is not yet valid",
            Self::WrongUse => "JWT validation failed: JWT is not an access token",
        }
    }
}

/// Signs and verifies tokens with one HS256 key.
#[derive(Clone)]
pub struct Signer {
    key_id: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for key `key` named `key_id`.
    pub fn new(key_id: String, key: Vec<u8>) -> Self {
        Self { key_id, key }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    /// Encodes and signs `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header {
            alg: "HS256".into(),
            typ: Some("JWT".into()),
            kid: Some(self.key_id.clone()),
            jku: None,
            jwk: None,
            x5u: None,
            x5c: None,
            crit: None,
        };
        let h = serde_json::to_vec(
            &serde_json::json!({"alg": header.alg, "typ": header.typ, "kid": header.kid}),
        )
        .unwrap_or_default();
        let p = serde_json::to_vec(claims).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(h),
            URL_SAFE_NO_PAD.encode(p)
        );
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Verifies `token` at wall-clock second `now` and that it is for `token_use`.
    pub fn verify(&self, token: &str, now: i64, token_use: &str) -> Result<Claims, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h64), Some(p64), Some(s64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header_bytes = URL_SAFE_NO_PAD
            .decode(h64)
            .map_err(|_| JwtError::Malformed)?;
        let header: Header =
            serde_json::from_slice(&header_bytes).map_err(|_| JwtError::Malformed)?;
        let foreign_kid = header.kid.as_deref().is_some_and(|k| k != self.key_id);
        if header.alg != "HS256"
            || foreign_kid
            || header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
            || header
                .typ
                .as_deref()
                .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
        {
            return Err(JwtError::BadSignature);
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s64)
            .map_err(|_| JwtError::Malformed)?;
        let mut mac = self.mac();
        mac.update(h64.as_bytes());
        mac.update(b".");
        mac.update(p64.as_bytes());
        mac.verify_slice(&sig).map_err(|_| JwtError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(p64)
            .map_err(|_| JwtError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)?;
        if claims.exp + LEEWAY_SECONDS <= now {
            return Err(JwtError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
            return Err(JwtError::NotYetValid);
        }
        if claims.token_use != token_use {
            return Err(JwtError::WrongUse);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64, token_use: &str) -> Claims {
        Claims {
            tenant_id: "t".into(),
            org: "o".into(),
            pod: "p".into(),
            internal: false,
            identity_id: Some("i".into()),
            user_name: Some("u".into()),
            authorities: vec!["ORG_ADMIN".into()],
            client_id: "c".into(),
            scope: vec!["sp:scopes:all".into()],
            strong_auth: false,
            strong_auth_supported: false,
            iat: 0,
            exp,
            jti: "j".into(),
            token_use: token_use.into(),
            ati: None,
            nbf: None,
        }
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn round_trip_and_refusals() {
        let s = Signer::new("k1".into(), b"secret-key".to_vec());
        let t = s.sign(&claims(1_000, "access"));
        assert_eq!(
            s.verify(&t, 900, "access").unwrap(),
            claims(1_000, "access")
        );
        assert_eq!(s.verify(&t, 2_000, "access"), Err(JwtError::Expired));
        assert_eq!(s.verify(&t, 900, "refresh"), Err(JwtError::WrongUse));
        let other = Signer::new("k1".into(), b"other-key".to_vec());
        assert_eq!(other.verify(&t, 900, "access"), Err(JwtError::BadSignature));
        assert_eq!(s.verify("garbage", 900, "access"), Err(JwtError::Malformed));
        let parts: Vec<&str> = t.split('.').collect();
        let none = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            parts[1]
        );
        assert_eq!(s.verify(&none, 900, "access"), Err(JwtError::BadSignature));
        let stripped = format!("{}.{}.", parts[0], parts[1]);
        assert_eq!(
            s.verify(&stripped, 900, "access"),
            Err(JwtError::BadSignature)
        );
    }
}
