//! Request extraction in SailPoint's terms: JSON bodies whose faults are 400 `ErrorResponseDto`s,
//! the standard collection parameters, and JSON Patch documents.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use gatehouse_filter::{FilterSpec, SortSpec};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A JSON body. Bad JSON, a wrong shape or a non-JSON content type is a 400 that says what is wrong.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn json_content_type(parts_ct: Option<&str>) -> bool {
    match parts_ct {
        None => true,
        Some(ct) => {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json") || mime.is_empty()
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !json_content_type(ct.as_deref()) {
            return Err(ApiError::bad_request(format!(
                "The body must be JSON (Content-Type application/json), not '{}'.",
                ct.unwrap_or_default()
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request("The request body could not be read.")
            }
        })?;
        json_body(&bytes).map(ApiJson)
    }
}

/// Reads a JSON request body as [`ApiJson`] does once the content type is checked: an empty
/// body or one that does not deserialise into `T` is a 400 that says what is wrong.
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("A JSON request body is required."));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid: {e}.")))
}

/// The raw query string as a map (last value wins).
#[derive(Debug, Default, Clone)]
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q)
            .map_err(|_| ApiError::bad_request("The query string could not be read."))?;
        Ok(Self(pairs.into_iter().collect()))
    }
}

impl QueryMap {
    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A boolean parameter (`true`/`false`), `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::illegal(format!(
                "'{name}' must be true or false, not '{v}'."
            ))),
        }
    }

    /// An integer parameter from 0 to `max`, `default` when absent.
    pub fn int(&self, name: &str, default: i64, max: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (0..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::illegal(format!(
                    "'{name}' must be an integer from 0 to {max}, not '{v}'."
                ))),
            },
        }
    }

    /// The standard paging parameters: `offset` ≥ 0 (default 0), `limit` 0..=250 (default 250),
    /// `count` (default false).
    pub fn paging(&self) -> Result<Paging, ApiError> {
        self.paging_max(250)
    }

    /// The paging parameters of a list whose `limit` is at most (and by default) `max`.
    pub fn paging_max(&self, max: i64) -> Result<Paging, ApiError> {
        Ok(Paging {
            offset: self.int("offset", 0, i64::from(i32::MAX))?,
            limit: self.int("limit", max, max)?,
            count: self.bool("count", false)?,
        })
    }

    /// `filters` compiled against `spec` (placeholders from `$first_param`), or `None` when absent.
    pub fn filters(
        &self,
        spec: &FilterSpec,
        first_param: usize,
    ) -> Result<Option<gatehouse_filter::SqlFragment>, ApiError> {
        match self.get("filters") {
            None => Ok(None),
            Some(f) if f.trim().is_empty() => Ok(None),
            Some(f) => gatehouse_filter::compile_filters(f, spec, first_param)
                .map(Some)
                .map_err(|e| ApiError::illegal(format!("Invalid filters: {e}"))),
        }
    }

    /// A list's `filters` (placeholders from `$first_param`), `sorters` (ties broken by
    /// `tiebreak`) and paging (`limit` at most `max_limit`), ready for the store.
    pub fn list_query(
        &self,
        filters: &FilterSpec,
        first_param: usize,
        sorters: &SortSpec,
        tiebreak: &'static str,
        max_limit: i64,
    ) -> Result<(gatehouse_store::listing::ListQuery, Paging), ApiError> {
        let paging = self.paging_max(max_limit)?;
        let filter = self.filters(filters, first_param)?;
        let sorts = self.sorters(sorters)?;
        let order_by = if sorts.is_empty() {
            String::new()
        } else {
            gatehouse_filter::order_by_sql(&sorts, Some(tiebreak))
        };
        Ok((
            gatehouse_store::listing::ListQuery {
                filter,
                order_by,
                limit: paging.limit,
                offset: paging.offset,
                count: paging.count,
            },
            paging,
        ))
    }

    /// `sorters` checked against `spec`.
    pub fn sorters(&self, spec: &SortSpec) -> Result<Vec<gatehouse_filter::Sort>, ApiError> {
        match self.get("sorters") {
            None => Ok(Vec::new()),
            Some(s) if s.trim().is_empty() => Ok(Vec::new()),
            Some(s) => gatehouse_filter::parse_sorters(s, spec)
                .map_err(|e| ApiError::illegal(format!("Invalid sorters: {e}"))),
        }
    }
}

/// `offset`, `limit`, `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
    /// Send `X-Total-Count`.
    pub count: bool,
}

impl Paging {
    /// Applies the page to an in-memory list, returning the page and the total.
    pub fn slice<T>(&self, items: Vec<T>) -> (Vec<T>, usize) {
        let total = items.len();
        let page = items
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(0))
            .collect();
        (page, total)
    }
}

/// A page of a collection as SailPoint answers it: a bare JSON array, with `X-Total-Count` when
/// `count=true` was asked.
pub fn page_response<T: serde::Serialize>(
    items: Vec<T>,
    total: usize,
    paging: &Paging,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut res = axum::Json(items).into_response();
    if paging.count {
        res.headers_mut()
            .insert("x-total-count", axum::http::HeaderValue::from(total));
    }
    res
}

/// A page from the store as SailPoint answers it (see [`page_response`]).
pub fn store_page<T: serde::Serialize>(
    items: Vec<T>,
    total: Option<i64>,
    paging: &Paging,
) -> axum::response::Response {
    let total = total.and_then(|t| usize::try_from(t).ok()).unwrap_or(0);
    page_response(items, total, paging)
}

/// A JSON Patch (RFC 6902) document, parsed and checked. SailPoint's `JsonPatchOperation` does not
/// allow a null `value` (it is one of string, boolean, integer, object or array), so a null value is
/// a 400 here; [`json_patch_allowing_null`] is for the one operation whose prose needs it.
pub fn json_patch(body: serde_json::Value) -> Result<json_patch::Patch, ApiError> {
    if let Some(i) = body.as_array().and_then(|ops| {
        ops.iter()
            .position(|op| op.get("value").is_some_and(serde_json::Value::is_null))
    }) {
        return Err(ApiError::illegal(format!(
            "Operation {i} of the patch has a null 'value'; SailPoint's JSON Patch operations do not allow null."
        )));
    }
    json_patch_allowing_null(body)
}

/// Like [`json_patch`], but a `value` may be null (v1 personal access tokens clear their
/// `expirationDate` that way, as SailPoint documents).
pub fn json_patch_allowing_null(body: serde_json::Value) -> Result<json_patch::Patch, ApiError> {
    if !body.is_array() {
        return Err(ApiError::bad_request(
            "The body must be a JSON Patch array of operations.",
        ));
    }
    serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON Patch: {e}.")))
}

/// Applies `patch` to `doc`; a failed operation is a 400 that names it.
pub fn apply_patch(doc: &mut serde_json::Value, patch: &json_patch::Patch) -> Result<(), ApiError> {
    json_patch::patch(doc, patch)
        .map_err(|e| ApiError::bad_request(format!("The patch cannot be applied: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> QueryMap {
        QueryMap(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(
            q(&[]).paging().unwrap(),
            Paging {
                offset: 0,
                limit: 250,
                count: false
            }
        );
        assert_eq!(
            q(&[("offset", "5"), ("limit", "0"), ("count", "true")])
                .paging()
                .unwrap(),
            Paging {
                offset: 5,
                limit: 0,
                count: true
            }
        );
        for bad in [
            ("limit", "251"),
            ("limit", "-1"),
            ("offset", "-1"),
            ("offset", "x"),
            ("count", "yes"),
        ] {
            assert!(q(&[bad]).paging().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pages_slice_and_count() {
        let p = Paging {
            offset: 1,
            limit: 2,
            count: true,
        };
        assert_eq!(p.slice(vec![1, 2, 3, 4]), (vec![2, 3], 4));
        let res = page_response(vec![2, 3], 4, &p);
        assert_eq!(res.headers()["x-total-count"], "4");
        let res = page_response(vec![2, 3], 4, &Paging { count: false, ..p });
        assert!(res.headers().get("x-total-count").is_none());
    }
}
