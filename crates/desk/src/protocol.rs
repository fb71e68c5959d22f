//! The desk protocols: ServiceNow's Table API, Jira's REST API v3 and the generic REST desk.
//!
//! Each can look a ticket up by its correlation id ([`Link::find`]), open one ([`Link::create`])
//! and read its status ([`Link::status`]). Every call carries the link's authentication; a call
//! answered 401 under OAuth 2.0 drops the cached token and is sent once more with a fresh one.

use crate::auth::{Auth, TokenCache};
use crate::http::{Call, CallError, Http, Reply};
use gatehouse_domain::service_desk::mapping::read_field;
use reqwest::Method;
use serde_json::{json, Map, Value};

/// A desk's protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// ServiceNow Table API.
    ServiceNow,
    /// Jira REST API v3.
    Jira,
    /// Any REST desk described by request and response mappings.
    Generic,
}

impl Flavor {
    /// The protocol of an integration `type` (`ServiceNowSDIM`, `JiraSDIM`, `Web Service SDIM`).
    pub fn of_type(type_name: &str) -> Option<Self> {
        match gatehouse_domain::service_desk::IntegrationType::by_type(type_name)?.script_name {
            "servicenow" => Some(Self::ServiceNow),
            "jira" => Some(Self::Jira),
            "generic" => Some(Self::Generic),
            _ => None,
        }
    }

    /// The attribute that holds the basic-auth secret.
    pub fn secret_key(self) -> &'static str {
        match self {
            Self::Jira => "apiToken",
            _ => "password",
        }
    }
}

/// What a ticket says.
#[derive(Clone, Debug, Default)]
pub struct Content {
    /// One line.
    pub summary: String,
    /// The details.
    pub description: String,
    /// Sent with the ticket; how it is found again.
    pub correlation_id: String,
    /// Placeholder values for the generic desk (`requesterName`, `identityName`, …).
    pub placeholders: Vec<(&'static str, String)>,
    /// Fields from the outbound mappings, merged into the create body.
    pub mapped: Map<String, Value>,
}

/// A ticket as the desk knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskTicket {
    /// The desk's id.
    pub id: String,
    /// Its display number or key.
    pub number: Option<String>,
    /// Its status, when the answer holds one.
    pub status: Option<String>,
}

/// One service-desk integration, ready to call. Its `Debug` names the attributes but shows none
/// of their values (some are credentials in clear).
#[derive(Clone)]
pub struct Link {
    /// The integration id (keys the token cache).
    pub id: String,
    /// Protocol.
    pub flavor: Flavor,
    /// The attributes, credentials in clear.
    pub attrs: Map<String, Value>,
    /// Authentication.
    pub auth: Auth,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("id", &self.id)
            .field("flavor", &self.flavor)
            .field("attrs", &self.attrs.keys().collect::<Vec<_>>())
            .field("auth", &self.auth)
            .finish()
    }
}

/// The client and token cache calls use.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// Client.
    pub http: &'a Http,
    /// Tokens.
    pub tokens: &'a TokenCache,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Merges `from` into `into`, objects recursively.
fn merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Replaces `${name}` in every string of `v`.
fn fill(v: &mut Value, values: &[(&str, String)], encode: bool) {
    match v {
        Value::String(s) => *s = fill_text(s, values, encode),
        Value::Array(a) => a.iter_mut().for_each(|x| fill(x, values, encode)),
        Value::Object(m) => m.values_mut().for_each(|x| fill(x, values, encode)),
        _ => {}
    }
}

fn fill_text(s: &str, values: &[(&str, String)], encode: bool) -> String {
    let mut out = s.to_owned();
    for (k, v) in values {
        let pat = format!("${{{k}}}");
        if out.contains(&pat) {
            let v = if encode {
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            } else {
                v.clone()
            };
            out = out.replace(&pat, &v);
        }
    }
    out
}

/// A generic desk's field (`read_field`), unless it is empty: an empty ticket id could never be
/// looked up again, and an empty status says nothing.
fn non_empty_field(doc: &Value, at: &str) -> Option<String> {
    read_field(doc, at).filter(|v| !v.is_empty())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Link {
    fn attr(&self, key: &str) -> Option<String> {
        text(self.attrs.get(key))
    }

    fn base(&self) -> String {
        self.attr("url")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned()
    }

    async fn call(
        &self,
        ctx: Ctx<'_>,
        method: Method,
        url: String,
        body: Option<Value>,
        headers: &[(String, String)],
    ) -> Result<Reply, CallError> {
        let build = |auth: Option<(String, String)>| {
            let mut c = Call::new(method.clone(), url.clone());
            c.headers.push(("Accept".into(), "application/json".into()));
            c.headers.extend(headers.iter().cloned());
            c.headers.extend(auth);
            c.json = body.clone();
            c
        };
        let header = ctx.tokens.header(ctx.http, &self.id, &self.auth).await?;
        match ctx.http.send(build(header)).await {
            Err(e) if e.status() == Some(401) => {
                let Auth::OAuth(o) = &self.auth else {
                    return Err(e);
                };
                ctx.tokens.invalidate(&self.id, o);
                let header = ctx.tokens.header(ctx.http, &self.id, &self.auth).await?;
                ctx.http.send(build(header)).await
            }
            other => other,
        }
    }

    fn extra_headers(&self) -> Vec<(String, String)> {
        self.attrs
            .get("headers")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The ticket the desk holds for `correlation_id`, if any.
    pub async fn find(
        &self,
        ctx: Ctx<'_>,
        correlation_id: &str,
    ) -> Result<Option<DeskTicket>, CallError> {
        match self.flavor {
            Flavor::ServiceNow => {
                let table = self.attr("ticketType").unwrap_or_else(|| "incident".into());
                let mut url = url::Url::parse(&format!("{}/api/now/table/{table}", self.base()))
                    .map_err(|e| CallError::Protocol(format!("attributes.url: {e}")))?;
                url.query_pairs_mut()
                    .append_pair("sysparm_query", &format!("correlation_id={correlation_id}"))
                    .append_pair("sysparm_limit", "1");
                let r = self.call(ctx, Method::GET, url.into(), None, &[]).await?;
                Ok(self.found_ticket(&r.json("ServiceNow")?))
            }
            Flavor::Jira => {
                let mut url = url::Url::parse(&format!("{}/rest/api/3/search/jql", self.base()))
                    .map_err(|e| CallError::Protocol(format!("attributes.url: {e}")))?;
                url.query_pairs_mut()
                    .append_pair("jql", &format!("labels = \"{correlation_id}\""))
                    .append_pair("fields", "status");
                let r = self.call(ctx, Method::GET, url.into(), None, &[]).await?;
                Ok(self.found_ticket(&r.json("Jira")?))
            }
            Flavor::Generic => {
                let Some(req) = self.attrs.get("lookupRequest").cloned() else {
                    return Ok(None);
                };
                let values = [("correlationId", correlation_id.to_owned())];
                let body = match self.generic(ctx, &req, &values, None).await {
                    Ok(r) => r.json("the desk")?,
                    Err(e) if e.status() == Some(404) => return Ok(None),
                    Err(e) => return Err(e),
                };
                Ok(self.found_ticket(&body))
            }
        }
    }

    /// The ticket in the desk's answer to a [`Link::find`] lookup, if it holds one.
    pub fn found_ticket(&self, body: &Value) -> Option<DeskTicket> {
        match self.flavor {
            Flavor::ServiceNow => {
                let status_field = self.attr("statusField").unwrap_or_else(|| "state".into());
                body.pointer("/result/0")
                    .and_then(|rec| self.servicenow_ticket(rec, &status_field))
            }
            Flavor::Jira => body.pointer("/issues/0").and_then(jira_ticket),
            Flavor::Generic => {
                let pointer = self
                    .attr("lookupIdPointer")
                    .unwrap_or_else(|| "/items/0/id".into());
                text(body.pointer(&pointer)).map(|id| DeskTicket {
                    id,
                    number: None,
                    status: None,
                })
            }
        }
    }

    /// The ticket in the desk's answer to a [`Link::create`]; an answer without a ticket id is a
    /// protocol error.
    pub fn created_ticket(&self, body: &Value) -> Result<DeskTicket, CallError> {
        match self.flavor {
            Flavor::ServiceNow => {
                let status_field = self.attr("statusField").unwrap_or_else(|| "state".into());
                body.get("result")
                    .and_then(|rec| self.servicenow_ticket(rec, &status_field))
                    .ok_or_else(|| {
                        CallError::Protocol("ServiceNow's answer holds no result.sys_id".into())
                    })
            }
            Flavor::Jira => Ok(DeskTicket {
                id: text(body.get("id"))
                    .ok_or_else(|| CallError::Protocol("Jira's answer holds no id".into()))?,
                number: text(body.get("key")),
                status: None,
            }),
            Flavor::Generic => {
                let id_at = self.attr("ticketIdPointer").unwrap_or_else(|| "/id".into());
                let status_at = self
                    .attr("statusPointer")
                    .unwrap_or_else(|| "/status".into());
                Ok(DeskTicket {
                    id: non_empty_field(body, &id_at).ok_or_else(|| {
                        CallError::Protocol(format!(
                            "the desk's answer holds no ticket id at {id_at}"
                        ))
                    })?,
                    number: None,
                    status: non_empty_field(body, &status_at),
                })
            }
        }
    }

    /// The status in the desk's answer to a [`Link::status`] call, if it holds one.
    pub fn status_in(&self, body: &Value) -> Option<String> {
        match self.flavor {
            Flavor::ServiceNow => {
                let field = self.attr("statusField").unwrap_or_else(|| "state".into());
                text(body.pointer(&format!("/result/{field}")))
            }
            Flavor::Jira => text(body.pointer("/fields/status/name")),
            Flavor::Generic => {
                let at = self
                    .attr("statusPointer")
                    .unwrap_or_else(|| "/status".into());
                non_empty_field(body, &at)
            }
        }
    }

    fn servicenow_ticket(&self, rec: &Value, status_field: &str) -> Option<DeskTicket> {
        Some(DeskTicket {
            id: text(rec.get("sys_id"))?,
            number: text(rec.get("number")),
            status: text(rec.get(status_field)),
        })
    }

    async fn generic(
        &self,
        ctx: Ctx<'_>,
        req: &Value,
        values: &[(&str, String)],
        body_extra: Option<(&Map<String, Value>, &str)>,
    ) -> Result<Reply, CallError> {
        let method = req
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| CallError::Protocol(format!("bad method {method}")))?;
        let path = fill_text(
            req.get("path").and_then(Value::as_str).unwrap_or("/"),
            values,
            true,
        );
        let mut headers = self.extra_headers();
        if let Some(h) = req.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                if let Some(v) = v.as_str() {
                    headers.push((k.clone(), fill_text(v, values, false)));
                }
            }
        }
        let mut body = req.get("body").cloned();
        if let Some(b) = body.as_mut() {
            fill(b, values, false);
        }
        if let Some((mapped, correlation)) = body_extra {
            if let Some(Value::Object(b)) = body.as_mut() {
                merge(b, mapped);
            }
            headers.push(("Idempotency-Key".into(), correlation.to_owned()));
        }
        self.call(
            ctx,
            method,
            format!("{}{path}", self.base()),
            body,
            &headers,
        )
        .await
    }

    /// Opens a ticket.
    pub async fn create(&self, ctx: Ctx<'_>, t: &Content) -> Result<DeskTicket, CallError> {
        match self.flavor {
            Flavor::ServiceNow => {
                let table = self.attr("ticketType").unwrap_or_else(|| "incident".into());
                let mut body = json!({
                    "short_description": truncate(&t.summary, 160),
                    "description": t.description,
                    "correlation_id": t.correlation_id,
                    "correlation_display": "Gatehouse",
                });
                let obj = body.as_object_mut().expect("an object");
                if let Some(g) = self.attr("assignmentGroup") {
                    obj.insert("assignment_group".into(), Value::String(g));
                }
                merge(obj, &t.mapped);
                let url = format!("{}/api/now/table/{table}", self.base());
                let r = self.call(ctx, Method::POST, url, Some(body), &[]).await?;
                self.created_ticket(&r.json("ServiceNow")?)
            }
            Flavor::Jira => {
                let mut body = json!({"fields": {
                    "project": {"key": self.attr("projectKey").unwrap_or_default()},
                    "summary": truncate(&t.summary, 255),
                    "description": {"type": "doc", "version": 1, "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": t.description}]}
                    ]},
                    "issuetype": {"name": self.attr("issueType").unwrap_or_else(|| "Task".into())},
                    "labels": [t.correlation_id],
                }});
                merge(body.as_object_mut().expect("an object"), &t.mapped);
                let url = format!("{}/rest/api/3/issue", self.base());
                let r = self.call(ctx, Method::POST, url, Some(body), &[]).await?;
                self.created_ticket(&r.json("Jira")?)
            }
            Flavor::Generic => {
                let req = self
                    .attrs
                    .get("createRequest")
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut values = t.placeholders.clone();
                values.push(("summary", t.summary.clone()));
                values.push(("description", t.description.clone()));
                values.push(("correlationId", t.correlation_id.clone()));
                let r = self
                    .generic(ctx, &req, &values, Some((&t.mapped, &t.correlation_id)))
                    .await?;
                self.created_ticket(&r.json("the desk")?)
            }
        }
    }

    /// The status of ticket `desk_id` (the desk's own value); `None` when the desk no longer
    /// has it (404).
    pub async fn status(&self, ctx: Ctx<'_>, desk_id: &str) -> Result<Option<String>, CallError> {
        let found = match self.flavor {
            Flavor::ServiceNow => {
                let table = self.attr("ticketType").unwrap_or_else(|| "incident".into());
                let field = self.attr("statusField").unwrap_or_else(|| "state".into());
                let id: String = url::form_urlencoded::byte_serialize(desk_id.as_bytes()).collect();
                let url = format!(
                    "{}/api/now/table/{table}/{id}?sysparm_fields={field}",
                    self.base()
                );
                self.call(ctx, Method::GET, url, None, &[])
                    .await
                    .and_then(|r| r.json("ServiceNow"))
                    .map(|b| self.status_in(&b))
            }
            Flavor::Jira => {
                let id: String = url::form_urlencoded::byte_serialize(desk_id.as_bytes()).collect();
                let url = format!("{}/rest/api/3/issue/{id}?fields=status", self.base());
                self.call(ctx, Method::GET, url, None, &[])
                    .await
                    .and_then(|r| r.json("Jira"))
                    .map(|b| self.status_in(&b))
            }
            Flavor::Generic => {
                let req = self
                    .attrs
                    .get("statusRequest")
                    .cloned()
                    .unwrap_or(Value::Null);
                self.generic(ctx, &req, &[("ticketId", desk_id.to_owned())], None)
                    .await
                    .and_then(|r| r.json("the desk"))
                    .map(|b| self.status_in(&b))
            }
        };
        match found {
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
            Ok(Some(s)) => Ok(Some(s)),
            Ok(None) => Err(CallError::Protocol(
                "the desk's status answer holds no status".into(),
            )),
        }
    }
}

fn jira_ticket(issue: &Value) -> Option<DeskTicket> {
    Some(DeskTicket {
        id: text(issue.get("id"))?,
        number: text(issue.get("key")),
        status: text(issue.pointer("/fields/status/name")),
    })
}

/// Where a webhook payload of each protocol names its ticket, most specific first: correlation
/// id, desk id, number.
pub fn webhook_keys(flavor: Flavor, payload: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    let mut push = |v: Option<String>| keys.extend(v);
    match flavor {
        Flavor::ServiceNow => {
            for p in [
                "/correlation_id",
                "/sys_id",
                "/number",
                "/result/correlation_id",
                "/result/sys_id",
            ] {
                push(text(payload.pointer(p)));
            }
        }
        Flavor::Jira => {
            if let Some(labels) = payload
                .pointer("/issue/fields/labels")
                .and_then(Value::as_array)
            {
                for l in labels.iter().filter_map(Value::as_str) {
                    if l.starts_with("gatehouse-") {
                        push(Some(l.to_owned()));
                    }
                }
            }
            push(text(payload.pointer("/issue/id")));
            push(text(payload.pointer("/issue/key")));
        }
        Flavor::Generic => {
            for p in [
                "/ticket/correlationId",
                "/correlationId",
                "/ticket/id",
                "/id",
            ] {
                push(text(payload.pointer(p)));
            }
        }
    }
    keys
}

/// The desk's status value in a webhook payload of each protocol (before any mapping).
pub fn webhook_status(link: &Link, payload: &Value) -> Option<String> {
    match link.flavor {
        Flavor::ServiceNow => {
            let field = link.attr("statusField").unwrap_or_else(|| "state".into());
            text(payload.get(&field)).or_else(|| text(payload.pointer(&format!("/result/{field}"))))
        }
        Flavor::Jira => text(payload.pointer("/issue/fields/status/name")),
        Flavor::Generic => text(payload.pointer("/ticket/status"))
            .or_else(|| text(payload.get("status")))
            .or_else(|| {
                link.attr("statusPointer")
                    .and_then(|p| non_empty_field(payload, &p))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(attrs: Value) -> Link {
        Link {
            id: "sdim".into(),
            flavor: Flavor::Generic,
            attrs: attrs.as_object().cloned().unwrap_or_default(),
            auth: Auth::None,
        }
    }

    #[test]
    fn a_generic_answer_with_an_empty_ticket_id_or_status_holds_none() {
        let link = generic(json!({"statusPointer": "/state"}));
        assert!(link.created_ticket(&json!({"id": ""})).is_err());
        let t = link
            .created_ticket(&json!({"id": "T-1", "state": ""}))
            .unwrap();
        assert_eq!((t.id.as_str(), t.status), ("T-1", None));
        assert_eq!(link.status_in(&json!({"state": ""})), None);
        assert_eq!(
            link.status_in(&json!({"state": "closed"})).as_deref(),
            Some("closed")
        );
        assert_eq!(webhook_status(&link, &json!({"state": ""})), None);
        let by_id = generic(json!({"ticketIdPointer": "data.id"}));
        assert!(by_id.created_ticket(&json!({"data": {"id": ""}})).is_err());
        assert_eq!(
            by_id
                .created_ticket(&json!({"data": {"id": 7}}))
                .unwrap()
                .id,
            "7"
        );
    }
}
