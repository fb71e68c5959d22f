//! The CSV form, for identities and for entitlements: one record per row, a header naming the
//! columns (any order; the same names as the JSON fields). An empty cell is a field left out.
//!
//! Identities: `id, name, displayName, firstName, lastName, email, alias, manager (a name),
//! authorities (separated by ';'), lifecycleState, cloudStatus, processingState, correlated,
//! isProtected, created, modified`, and `attributes.KEY` for each identity attribute.
//! Entitlements: `id, source (a name), attribute, value, name, type, description, owner (a name),
//! requestable, privileged, created, modified`.

use super::export::{Export, Obj};
use super::model::{EntitlementRec, IdentityRec};
use super::{Loc, TenantFile};
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use std::io::Write;

/// Which records a CSV file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvKind {
    /// People.
    Identities,
    /// Entitlements.
    Entitlements,
}

impl CsvKind {
    /// Guesses from a header: `attribute` and `value` columns mean entitlements.
    pub fn from_header(text: &[u8]) -> Self {
        let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
        let cols: Vec<String> = String::from_utf8_lossy(first)
            .split(',')
            .map(|c| c.trim().trim_matches('"').to_owned())
            .collect();
        if cols.iter().any(|c| c == "attribute") && cols.iter().any(|c| c == "value") {
            Self::Entitlements
        } else {
            Self::Identities
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Identities => &[
                "id",
                "name",
                "displayName",
                "firstName",
                "lastName",
                "email",
                "alias",
                "manager",
                "authorities",
                "lifecycleState",
                "cloudStatus",
                "processingState",
                "correlated",
                "isProtected",
                "created",
                "modified",
            ],
            Self::Entitlements => &[
                "id",
                "source",
                "attribute",
                "value",
                "name",
                "type",
                "description",
                "owner",
                "requestable",
                "privileged",
                "created",
                "modified",
            ],
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Self::Identities => "identity",
            Self::Entitlements => "entitlement",
        }
    }
}

const BOOLEANS: &[&str] = &["correlated", "isProtected", "requestable", "privileged"];

fn cell(col: &str, v: &str) -> Result<Json, String> {
    if BOOLEANS.contains(&col) {
        return match v.to_ascii_lowercase().as_str() {
            "true" => Ok(Json::Bool(true)),
            "false" => Ok(Json::Bool(false)),
            _ => Err(format!("{col} must be true or false, not '{v}'")),
        };
    }
    if col == "authorities" {
        return Ok(Json::Array(
            v.split(';')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| Json::String(a.to_owned()))
                .collect(),
        ));
    }
    Ok(Json::String(v.to_owned()))
}

pub(super) fn read(into: &mut TenantFile, file: u16, text: &[u8], kind: CsvKind) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(text);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            into.problem(
                Loc { file, line: 1 },
                "file",
                None,
                format!("the header cannot be read: {e}"),
            );
            return;
        }
    };
    let known = kind.columns();
    let bad: Vec<&String> = header
        .iter()
        .filter(|h| {
            !(known.contains(&h.as_str())
                || (kind == CsvKind::Identities && h.starts_with("attributes.") && h.len() > 11))
        })
        .collect();
    if !bad.is_empty() {
        let names: Vec<&str> = bad.iter().map(|s| s.as_str()).collect();
        into.problem(
            Loc { file, line: 1 },
            "file",
            None,
            format!(
                "unknown column(s) {}; {} files have {} (and attributes.KEY for identities)",
                names.join(", "),
                kind.kind(),
                known.join(", ")
            ),
        );
        return;
    }
    let mut record = csv::StringRecord::new();
    loop {
        let at = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(at, csv::Position::line);
                into.problem(
                    Loc {
                        file,
                        line: u32::try_from(line).unwrap_or(u32::MAX),
                    },
                    kind.kind(),
                    None,
                    format!("bad CSV: {e}"),
                );
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return;
                }
                continue;
            }
        }
        let line = record.position().map_or(at, csv::Position::line);
        let loc = Loc {
            file,
            line: u32::try_from(line).unwrap_or(u32::MAX),
        };
        let mut obj = Map::new();
        let mut attributes = Map::new();
        let mut errors = Vec::new();
        for (col, v) in header.iter().zip(record.iter()) {
            if v.is_empty() {
                continue;
            }
            if let Some(key) = col.strip_prefix("attributes.") {
                attributes.insert(key.to_owned(), Json::String(v.to_owned()));
                continue;
            }
            match cell(col, v) {
                Ok(j) => {
                    obj.insert(col.clone(), j);
                }
                Err(e) => errors.push(e),
            }
        }
        if !attributes.is_empty() {
            obj.insert("attributes".into(), Json::Object(attributes));
        }
        let key = obj
            .get("name")
            .or_else(|| obj.get("value"))
            .and_then(Json::as_str)
            .map(str::to_owned);
        if !errors.is_empty() {
            into.problem(loc, kind.kind(), key.as_deref(), errors.join("; "));
            continue;
        }
        let value = Json::Object(obj);
        match kind {
            CsvKind::Identities => match serde_json::from_value::<IdentityRec>(value) {
                Ok(r) => into.identities.push((loc, r)),
                Err(e) => into.problem(loc, kind.kind(), key.as_deref(), e.to_string()),
            },
            CsvKind::Entitlements => match serde_json::from_value::<EntitlementRec>(value) {
                Ok(r) => into.entitlements.push((loc, r)),
                Err(e) => into.problem(loc, kind.kind(), key.as_deref(), e.to_string()),
            },
        }
    }
}

fn plain(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Bool(b)) => b.to_string(),
        Some(Json::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(";"),
        Some(other) => other
            .get("name")
            .and_then(Json::as_str)
            .map_or_else(|| other.to_string(), str::to_owned),
    }
}

impl Export {
    /// Writes the identities or the entitlements as CSV.
    pub fn write_csv(&self, w: &mut dyn Write, kind: CsvKind) -> std::io::Result<()> {
        let objs: &[Obj] = match kind {
            CsvKind::Identities => self.of("identities"),
            CsvKind::Entitlements => self.of("entitlements"),
        };
        let attrs: BTreeSet<String> = objs
            .iter()
            .filter_map(|o| o.get("attributes").and_then(Json::as_object))
            .flat_map(|m| m.keys().cloned())
            .collect();
        let mut out = csv::Writer::from_writer(w);
        let mut header: Vec<String> = kind.columns().iter().map(|c| (*c).to_owned()).collect();
        header.extend(attrs.iter().map(|a| format!("attributes.{a}")));
        out.write_record(&header)?;
        for o in objs {
            let mut row: Vec<String> = kind.columns().iter().map(|c| plain(o.get(c))).collect();
            let a = o.get("attributes").and_then(Json::as_object);
            for key in &attrs {
                row.push(plain(a.and_then(|m| m.get(key))));
            }
            out.write_record(&row)?;
        }
        out.flush()?;
        Ok(())
    }
}
