use super::*;
use serde_json::json;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn servicenow() -> &'static IntegrationType {
    IntegrationType::by_type("ServiceNowSDIM").unwrap()
}

fn snow(extra: Value) -> Map<String, Value> {
    let mut m =
        obj(json!({"url": "https://acme.service-now.com", "username": "svc", "password": "p1"}));
    m.extend(obj(extra));
    m
}

fn err(r: Result<PreparedAttributes, AttributeError>) -> String {
    r.expect_err("refused").0
}

#[test]
fn lookups_by_type_alias_and_script_name() {
    assert_eq!(IntegrationType::all().len(), 3);
    assert_eq!(
        IntegrationType::by_type("ServiceNow").unwrap().script_name,
        "servicenow"
    );
    assert_eq!(
        IntegrationType::by_script_name("jira").unwrap().type_name,
        "JiraSDIM"
    );
    assert_eq!(
        IntegrationType::by_script_name("generic")
            .unwrap()
            .type_name,
        "Web Service SDIM"
    );
    assert!(IntegrationType::by_type("Zendesk").is_none());
    assert!(IntegrationType::by_script_name("ServiceNowSDIM").is_none());
}

#[test]
fn every_template_accepts_its_own_defaults() {
    for ty in IntegrationType::all() {
        let mut doc = Map::new();
        for a in ty.attributes {
            let required = match a.need {
                Need::Required => true,
                Need::When(other, values) => ty
                    .attribute(other)
                    .and_then(Attribute::default_value)
                    .and_then(|d| d.as_str().map(|s| values.contains(&s)))
                    .unwrap_or(false),
                Need::Optional => false,
            };
            if required && a.default.is_none() {
                let v = match a.kind {
                    Kind::Url => json!("https://desk.example.com"),
                    _ => json!("x"),
                };
                doc.insert(a.name.into(), v);
            }
        }
        let p = prepare_attributes(ty, doc, None).unwrap_or_else(|e| panic!("{}: {e}", ty.name));
        for a in ty.attributes.iter().filter(|a| a.default.is_some()) {
            assert!(p.attributes.contains_key(a.name), "{} {}", ty.name, a.name);
        }
    }
}

#[test]
fn credentials_are_masked_and_handed_out_by_pointer() {
    let generic = IntegrationType::by_script_name("generic").unwrap();
    let p = prepare_attributes(
        generic,
        obj(json!({
            "url": "https://desk.example.com",
            "username": "svc", "password": "P-1",
            "headers": {"Authorization": "Bearer H", "X-Tenant": "acme", "X-Api-Key": "K"},
            "createRequest": {"method": "POST", "path": "/t", "body": {"auth": {"token": "B"}, "n": 1}},
            "myApiKey": "U", "clientToken": ["A0", "A1"], "tokenEndpointUrl": "https://x", "useToken": true,
        })),
        None,
    )
    .unwrap();
    let got: BTreeMap<String, String> = p
        .fresh
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_owned()))
        .collect();
    let want: BTreeMap<String, String> = [
        ("/password", "P-1"),
        ("/headers/Authorization", "Bearer H"),
        ("/headers/X-Api-Key", "K"),
        ("/createRequest/body/auth/token", "B"),
        ("/myApiKey", "U"),
        ("/clientToken/0", "A0"),
        ("/clientToken/1", "A1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(got, want);
    let text = Value::Object(p.attributes.clone()).to_string();
    for clear in ["P-1", "Bearer H", "\"K\"", "\"B\"", "\"U\"", "A0", "A1"] {
        assert!(!text.contains(clear), "{clear} in {text}");
    }
    assert_eq!(p.attributes["headers"]["X-Tenant"], "acme");
    assert_eq!(p.attributes["password"], MASK);
    assert_eq!(p.attributes["useToken"], true);
    assert_eq!(p.attributes["tokenEndpointUrl"], "https://x");
}

#[test]
fn credential_heuristic() {
    for yes in [
        "password",
        "clientSecret",
        "api_key",
        "X-API-Key",
        "Authorization",
        "refreshToken",
        "privateKey",
        "Cookie",
        "db-passwd",
    ] {
        assert!(looks_like_credential(yes), "{yes}");
    }
    for no in [
        "tokenUrl",
        "apiKeyHeader",
        "tokenType",
        "url",
        "username",
        "clientId",
        "statusMap",
        "passwordField",
        "secretName",
    ] {
        assert!(!looks_like_credential(no), "{no}");
    }
}

#[test]
fn numbers_under_credential_keys_are_refused() {
    let e = err(prepare_attributes(
        servicenow(),
        snow(json!({"pin": 1, "extraSecret": 1234})),
        None,
    ));
    assert!(e.contains("attributes.extraSecret"), "{e}");
    assert!(!e.contains("1234"), "{e}");
}

#[test]
fn required_attributes_and_conditions() {
    let e = err(prepare_attributes(servicenow(), obj(json!({})), None));
    assert!(e.contains("attributes.url is required"), "{e}");
    let e = err(prepare_attributes(
        servicenow(),
        obj(json!({"url": "https://a.example", "username": "u"})),
        None,
    ));
    assert!(
        e.contains("attributes.password is required") && e.contains("basic"),
        "{e}"
    );
    let e = err(prepare_attributes(
        servicenow(),
        snow(json!({"authType": "oauth2_refresh_token", "clientId": "c", "clientSecret": "s"})),
        None,
    ));
    assert!(e.contains("attributes.refreshToken is required"), "{e}");
    let e = err(prepare_attributes(
        servicenow(),
        snow(json!({"authType": "kerberos"})),
        None,
    ));
    assert!(
        e.contains("attributes.authType must be one of basic"),
        "{e}"
    );
    // null means absent: the default comes back.
    let p = prepare_attributes(servicenow(), snow(json!({"ticketType": null})), None).unwrap();
    assert_eq!(p.attributes["ticketType"], "incident");
}

#[test]
fn urls_must_be_absolute_http_without_user_info() {
    for bad in [
        "ftp://a.example",
        "https://user:pw@a.example",
        "https://a.example/#x",
        "/relative",
        "a.example",
        "",
        "file:///etc/passwd",
    ] {
        let e = err(prepare_attributes(
            servicenow(),
            snow(json!({"url": bad})),
            None,
        ));
        assert!(
            e.contains("attributes.url must be an absolute"),
            "{bad}: {e}"
        );
        assert!(bad.is_empty() || !e.contains(bad), "{e}");
    }
    assert!(prepare_attributes(
        servicenow(),
        snow(json!({"url": "http://10.0.0.5:8080/sn"})),
        None
    )
    .is_ok());
}

#[test]
fn status_maps_need_a_committed_status() {
    for (bad, why) in [
        (json!({}), "1 to 100"),
        (
            json!({"Open": "Queued"}),
            "at least one status to Committed",
        ),
        (
            json!({"Done": "Done"}),
            "attributes.statusMap.Done must be Queued",
        ),
        (json!("Committed"), "must be an object"),
    ] {
        let e = err(prepare_attributes(
            servicenow(),
            snow(json!({"statusMap": bad})),
            None,
        ));
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn generic_requests_are_checked() {
    let generic = IntegrationType::by_script_name("generic").unwrap();
    let base = json!({"url": "https://d.example", "authType": "none"});
    for (req, why) in [
        (
            json!({"method": "DELETE", "path": "/t"}),
            "method must be one of",
        ),
        (
            json!({"method": "POST", "path": "https://evil.example/t"}),
            "path must be a path",
        ),
        (
            json!({"method": "POST", "path": "//evil.example/t"}),
            "path must be a path",
        ),
        (
            json!({"method": "POST", "path": "/t", "extra": 1}),
            "extra is not known",
        ),
        (
            json!({"method": "POST", "path": "/t", "headers": {"bad header": "v"}}),
            "not a header name",
        ),
    ] {
        let mut doc = obj(base.clone());
        doc.insert("createRequest".into(), req);
        let e = err(prepare_attributes(generic, doc, None));
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn the_mask_keeps_a_stored_credential_only_for_the_same_endpoint() {
    let first = prepare_attributes(servicenow(), snow(json!({})), None).unwrap();
    let sealed: BTreeMap<String, String> =
        [("/password".to_owned(), "v1:sealed".to_owned())].into();
    let stored = StoredAttributes {
        type_name: "ServiceNowSDIM",
        attributes: &first.attributes,
        sealed: &sealed,
    };

    let same = prepare_attributes(servicenow(), first.attributes.clone(), Some(stored)).unwrap();
    assert_eq!(same.kept, vec!["/password".to_owned()]);
    assert!(same.fresh.is_empty());

    let mut moved = first.attributes.clone();
    moved.insert("url".into(), json!("https://evil.example"));
    let e = err(prepare_attributes(
        servicenow(),
        moved.clone(),
        Some(stored),
    ));
    assert!(
        e.contains("attributes.url changed") && e.contains("send attributes.password again"),
        "{e}"
    );
    moved.insert("password".into(), json!("new"));
    let ok = prepare_attributes(servicenow(), moved, Some(stored)).unwrap();
    assert!(ok.kept.is_empty());
    assert_eq!(ok.fresh[0].1.expose(), "new");

    let mut renamed = first.attributes.clone();
    renamed.insert("username".into(), json!("other"));
    assert!(err(prepare_attributes(servicenow(), renamed, Some(stored)))
        .contains("attributes.username changed"));

    let mut token_url = first.attributes.clone();
    token_url.insert("tokenUrl".into(), json!("https://evil.example/token"));
    assert!(
        err(prepare_attributes(servicenow(), token_url, Some(stored)))
            .contains("attributes.tokenUrl changed")
    );

    let generic = IntegrationType::by_script_name("generic").unwrap();
    let e = err(prepare_attributes(
        generic,
        first.attributes.clone(),
        Some(stored),
    ));
    assert!(e.starts_with("type"), "{e}");

    let e = err(prepare_attributes(
        servicenow(),
        snow(json!({"password": MASK})),
        None,
    ));
    assert!(e.contains("none is stored"), "{e}");
}

#[test]
fn seal_contexts_differ_per_place() {
    assert_ne!(
        seal_context("t", "i", "/password"),
        seal_context("t", "i", "/clientSecret")
    );
    assert_ne!(
        seal_context("t", "i", "/password"),
        seal_context("t", "j", "/password")
    );
}
