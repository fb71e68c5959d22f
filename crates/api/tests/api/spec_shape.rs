//! Checks answers against the response schema of the family the caller used, from the specs in
//! `spec/sailpoint/` (`catalog-*` and `subset-*`; family `v1` is `subset-v1-paths`): types,
//! `required`, `nullable`, enums and numeric bounds, through `$ref`, `allOf`, `oneOf` and `anyOf`.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The spec documents of each family, searched in order for a path.
fn specs() -> &'static HashMap<String, Vec<Value>> {
    static SPECS: OnceLock<HashMap<String, Vec<Value>>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/sailpoint");
        let read = |name: &str| -> Value {
            let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
            serde_json::from_str(&text).unwrap()
        };
        let mut all: HashMap<String, Vec<Value>> = ["v3", "v2024", "beta"]
            .iter()
            .map(|f| {
                (
                    (*f).to_owned(),
                    vec![read(&format!("catalog-{f}")), read(&format!("subset-{f}"))],
                )
            })
            .collect();
        all.insert("v1".into(), vec![read("subset-v1-paths")]);
        all
    })
}

fn resolve<'a>(spec: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        s = &spec["components"]["schemas"][name];
    }
    s
}

fn check(spec: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let s = resolve(spec, schema);
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(spec, part, v, at, errors);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            let ok = alts.iter().any(|alt| {
                let mut e = Vec::new();
                check(spec, alt, v, at, &mut e);
                e.is_empty()
            });
            if !(ok || v.is_null() && s["nullable"] == true) {
                errors.push(format!("{at}: matches none of {key}"));
            }
        }
    }
    if v.is_null() {
        let nullable = s["nullable"] == true
            || s.get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.contains(&Value::Null));
        if s.get("type").is_some() && !nullable {
            errors.push(format!("{at}: null but not nullable"));
        }
        return;
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        if !values.contains(v) {
            errors.push(format!("{at}: {v} not in enum {values:?}"));
        }
    }
    let ok = match s.get("type").and_then(Value::as_str) {
        Some("string") => v.is_string(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("boolean") => v.is_boolean(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: {v} is not a {}", s["type"]));
        return;
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            if n < min {
                errors.push(format!("{at}: {v} is below the minimum {min}"));
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            if n > max {
                errors.push(format!("{at}: {v} is above the maximum {max}"));
            }
        }
    }
    if let (Some(items), Some(list)) = (s.get("items"), v.as_array()) {
        for (i, item) in list.iter().enumerate() {
            check(spec, items, item, &format!("{at}[{i}]"), errors);
        }
    }
    if let Some(obj) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                errors.push(format!("{at}: required '{r}' is missing"));
            }
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                if let Some(x) = obj.get(k) {
                    check(spec, sub, x, &format!("{at}.{k}"), errors);
                }
            }
        }
    }
}

/// Asserts `body`, answered with `status` to `method path` in `family`, matches the spec's schema.
/// `path` is the spec's template (`/sources/{id}`).
pub fn assert_shape(family: &str, method: &str, path: &str, status: u16, body: &Value) {
    let method = method.to_lowercase();
    let spec = specs()[family]
        .iter()
        .find(|spec| spec["paths"][path][&method].is_object())
        .unwrap_or_else(|| panic!("{family} has no {method} {path}"));
    let op = &spec["paths"][path][&method];
    let mut response = &op["responses"][status.to_string()];
    if let Some(r) = response.get("$ref").and_then(Value::as_str) {
        response = &spec["components"]["responses"][r.rsplit('/').next().unwrap()];
    }
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{family} {method} {path} declares no {status} body"
    );
    let mut errors = Vec::new();
    check(spec, schema, body, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{family} {method} {path}: {errors:#?}\n{body:#}"
    );
}
