//! How a desk call authenticates, from an integration's attributes, and the OAuth 2.0 token cache.
//!
//! Access tokens are cached per integration and grant, and fetched again once 80 % of their
//! lifetime has passed. A call answered 401 drops the cached token and is retried once with a fresh one
//! ([`crate::protocol`]); a second 401 is a permanent failure.

use crate::http::{CallError, Http};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An OAuth 2.0 grant. Its `Debug` shows no credential.
#[derive(Clone)]
pub enum Grant {
    /// `client_credentials`.
    ClientCredentials,
    /// `password`, with the user's name and password.
    Password(String, String),
    /// `refresh_token`.
    RefreshToken(String),
}

/// Where a token comes from. Its `Debug` shows no credential.
#[derive(Clone)]
pub struct OAuth {
    /// Token endpoint.
    pub token_url: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Grant.
    pub grant: Grant,
}

/// How calls authenticate. Its `Debug` shows no credential.
#[derive(Clone)]
pub enum Auth {
    /// Not at all.
    None,
    /// HTTP Basic.
    Basic(String, String),
    /// A static bearer token.
    Bearer(String),
    /// A key in a header.
    ApiKey(String, String),
    /// An OAuth 2.0 access token.
    OAuth(OAuth),
}

use gatehouse_domain::service_desk::MASK;

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ClientCredentials => f.write_str("ClientCredentials"),
            Self::Password(user, _) => f.debug_tuple("Password").field(user).field(&MASK).finish(),
            Self::RefreshToken(_) => f.debug_tuple("RefreshToken").field(&MASK).finish(),
        }
    }
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &MASK)
            .field("grant", &self.grant)
            .finish()
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Basic(user, _) => f.debug_tuple("Basic").field(user).field(&MASK).finish(),
            Self::Bearer(_) => f.debug_tuple("Bearer").field(&MASK).finish(),
            Self::ApiKey(header, _) => f.debug_tuple("ApiKey").field(header).field(&MASK).finish(),
            Self::OAuth(o) => f.debug_tuple("OAuth").field(o).finish(),
        }
    }
}

fn text(attrs: &Map<String, Value>, key: &str) -> Option<String> {
    attrs
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Auth {
    /// The authentication an integration's clear attributes describe. `default_token_path` is
    /// appended to `url` when `tokenUrl` is absent (ServiceNow's `/oauth_token.do`).
    pub fn from_attributes(
        attrs: &Map<String, Value>,
        secret_key: &str,
        default_token_path: Option<&str>,
    ) -> Result<Self, String> {
        let need =
            |key: &str| text(attrs, key).ok_or_else(|| format!("attributes.{key} is missing"));
        let kind = text(attrs, "authType").unwrap_or_else(|| "basic".into());
        let oauth = |grant: Grant| -> Result<Self, String> {
            let token_url = match (text(attrs, "tokenUrl"), default_token_path) {
                (Some(u), _) => u,
                (None, Some(p)) => format!("{}{p}", need("url")?.trim_end_matches('/')),
                (None, None) => need("tokenUrl")?,
            };
            Ok(Self::OAuth(OAuth {
                token_url,
                client_id: need("clientId")?,
                client_secret: need("clientSecret")?,
                grant,
            }))
        };
        match kind.as_str() {
            "none" => Ok(Self::None),
            "basic" => Ok(Self::Basic(need("username")?, need(secret_key)?)),
            "bearer" => Ok(Self::Bearer(need(if secret_key == "apiToken" {
                "apiToken"
            } else {
                "token"
            })?)),
            "apiKey" => Ok(Self::ApiKey(
                text(attrs, "apiKeyHeader").unwrap_or_else(|| "X-API-Key".into()),
                need("apiKey")?,
            )),
            "oauth2_client_credentials" => oauth(Grant::ClientCredentials),
            "oauth2_password" => oauth(Grant::Password(need("username")?, need("password")?)),
            "oauth2_refresh_token" => oauth(Grant::RefreshToken(need("refreshToken")?)),
            other => Err(format!(
                "authType {other} is not one Gatehouse can call with"
            )),
        }
    }

    /// Every credential this holds, to scrub from messages.
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Self::None => vec![],
            Self::Basic(_, p) | Self::Bearer(p) | Self::ApiKey(_, p) => vec![p.clone()],
            Self::OAuth(o) => {
                let mut v = vec![o.client_secret.clone()];
                match &o.grant {
                    Grant::Password(_, p) | Grant::RefreshToken(p) => v.push(p.clone()),
                    Grant::ClientCredentials => {}
                }
                v
            }
        }
    }
}

/// Seconds after which a token that lives `lifetime` seconds is fetched again: at 80 % of its
/// lifetime, so that a slow clock or a token endpoint that shortens lives never hands a desk an
/// expired token.
pub fn refresh_after(lifetime: u64) -> u64 {
    lifetime.saturating_mul(4) / 5
}

/// The access token and its lifetime in seconds (300 when the answer states none) in a token
/// endpoint's answer.
pub fn token_answer(body: &Value) -> Result<(String, u64), CallError> {
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CallError::Protocol("the token endpoint sent no access_token".into()))?
        .to_owned();
    let lifetime = body
        .get("expires_in")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(300);
    Ok((token, lifetime))
}

/// When a token fetched at `now` that lives `lifetime` seconds is fetched again.
pub fn refresh_instant(now: Instant, lifetime: u64) -> Instant {
    now + Duration::from_secs(refresh_after(lifetime))
}

struct Cached {
    token: String,
    refresh_after: Instant,
}

/// Access tokens by integration and grant.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, Cached>>,
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

impl TokenCache {
    fn key(link: &str, o: &OAuth) -> String {
        format!("{link}\0{}\0{}", o.token_url, o.client_id)
    }

    /// Forgets the token of `link` (after a 401).
    pub fn invalidate(&self, link: &str, o: &OAuth) {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&Self::key(link, o));
    }

    /// A valid access token for `link`: the cached one, or a fresh one from the token endpoint.
    pub async fn token(&self, http: &Http, link: &str, o: &OAuth) -> Result<String, CallError> {
        let key = Self::key(link, o);
        if let Some(c) = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            if Instant::now() < c.refresh_after {
                return Ok(c.token.clone());
            }
        }
        let mut form = vec![
            ("client_id".to_owned(), o.client_id.clone()),
            ("client_secret".to_owned(), o.client_secret.clone()),
        ];
        match &o.grant {
            Grant::ClientCredentials => {
                form.push(("grant_type".into(), "client_credentials".into()))
            }
            Grant::Password(u, p) => {
                form.push(("grant_type".into(), "password".into()));
                form.push(("username".into(), u.clone()));
                form.push(("password".into(), p.clone()));
            }
            Grant::RefreshToken(r) => {
                form.push(("grant_type".into(), "refresh_token".into()));
                form.push(("refresh_token".into(), r.clone()));
            }
        }
        let mut call = crate::http::Call::new(Method::POST, o.token_url.clone());
        call.form = Some(form);
        call.headers
            .push(("Accept".into(), "application/json".into()));
        let reply = http.send(call).await.map_err(|e| match e {
            CallError::Status {
                what,
                status,
                retry_after_ms,
                ..
            } => CallError::Status {
                what: format!("the token endpoint ({what})"),
                status,
                retry_after_ms,
                detail: String::new(),
            },
            other => other,
        })?;
        let (token, lifetime) = token_answer(&reply.json("the token endpoint")?)?;
        crate::failpoint::hit(crate::failpoint::TOKEN_FETCHED);

        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                key,
                Cached {
                    token: token.clone(),
                    refresh_after: refresh_instant(Instant::now(), lifetime),
                },
            );
        Ok(token)
    }

    /// The `Authorization` (or API key) header for `auth`.
    pub async fn header(
        &self,
        http: &Http,
        link: &str,
        auth: &Auth,
    ) -> Result<Option<(String, String)>, CallError> {
        Ok(match auth {
            Auth::None => None,
            Auth::Basic(u, p) => Some(("Authorization".into(), basic(u, p))),
            Auth::Bearer(t) => Some(("Authorization".into(), format!("Bearer {t}"))),
            Auth::ApiKey(h, k) => Some((h.clone(), k.clone())),
            Auth::OAuth(o) => Some((
                "Authorization".into(),
                format!("Bearer {}", self.token(http, link, o).await?),
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::refresh_after;

    /// OUT-4: a token is refreshed at no more than 80 % of its lifetime, and not needlessly early.
    #[test]
    fn tokens_are_refreshed_at_80_percent_of_their_lifetime() {
        for lifetime in (0..=86_400).chain([u64::MAX / 2, u64::MAX]) {
            let at = refresh_after(lifetime);
            assert!(at as f64 <= 0.8 * lifetime as f64, "{lifetime}: {at}");
            assert!(
                at as f64 >= 0.8 * lifetime as f64 - 1.0 || lifetime > u64::MAX / 5,
                "{lifetime}: {at}"
            );
        }
        assert_eq!(refresh_after(3_600), 2_880);
    }
}
