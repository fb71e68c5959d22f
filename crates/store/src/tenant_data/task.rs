//! An import as a task: what `gatehouse import`, the first start's demo tenant and a reset to the
//! demo tenant leave in task status. Written in the import's own transaction, so the task exists
//! exactly when the import was committed; a rejected import is recorded as an `ERROR` task with
//! its problems (nothing else is written then).

use super::{Problem, Summary, KINDS};
use crate::task_status::{Record, Report, ReportMessage};
use gatehouse_domain::Timestamp;
use serde_json::json;

/// The job kind of an import.
pub const KIND: &str = "tenant_import";

/// The most problems a rejected import's task lists (the count is always given).
const MAX_PROBLEMS: usize = 100;

/// Who ran an import.
#[derive(Clone, Debug)]
pub enum Launcher {
    /// An identity (a reset to the demo tenant by an administrator).
    Identity(String),
    /// A command, e.g. `gatehouse import`.
    Command(&'static str),
}

fn files_text(files: &[String]) -> String {
    if files.is_empty() {
        "the demo tenant".to_owned()
    } else {
        files.join(", ")
    }
}

/// `identity` → `identity`, `access profile` → `accessProfile`.
fn camel(kind: &str) -> String {
    let mut out = String::new();
    for (i, w) in kind.split(' ').enumerate() {
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            if i == 0 {
                out.push(f);
            } else {
                out.extend(f.to_uppercase());
            }
            out.push_str(cs.as_str());
        }
    }
    out
}

fn base(files: &[String], launcher: Launcher, started: Timestamp, finished: Timestamp) -> Record {
    let (launcher, launcher_label) = match launcher {
        Launcher::Identity(id) => (Some(id), None),
        Launcher::Command(c) => (None, Some(c.to_owned())),
    };
    Record {
        kind: KIND,
        description: format!("Import of {}", files_text(files)),
        launcher,
        launcher_label,
        started,
        finished,
        completion_status: "SUCCESS",
        report: Report::default(),
    }
}

/// The task of an import that was written: per kind, how many records were created, updated and
/// found unchanged (as messages, returns and attributes).
pub fn imported(
    summary: &Summary,
    files: &[String],
    launcher: Launcher,
    started: Timestamp,
    finished: Timestamp,
) -> Record {
    let mut r = base(files, launcher, started, finished);
    let mut parts = Vec::new();
    for (kind, counts) in &summary.kinds {
        let attr = camel(kind);
        for (what, n) in [
            ("Created", counts.created),
            ("Updated", counts.updated),
            ("Unchanged", counts.unchanged),
        ] {
            let name = format!("{attr}{what}");
            r.report.returns.push((
                format!("{} {}", plural(kind), what.to_lowercase()),
                name.clone(),
            ));
            r.report.attributes.insert(name, json!(n));
        }
        if counts.created + counts.updated + counts.unchanged > 0 {
            parts.push(format!(
                "{}: {} created, {} updated, {} unchanged",
                plural(kind),
                counts.created,
                counts.updated,
                counts.unchanged
            ));
        }
    }
    r.report
        .attributes
        .insert("recordsWritten".into(), json!(summary.changed()));
    r.report
        .returns
        .push(("records written".into(), "recordsWritten".into()));
    r.report.messages.push(ReportMessage {
        level: "INFO".into(),
        key: "import.summary".into(),
        text: if parts.is_empty() {
            "The files held no records.".to_owned()
        } else {
            format!("{}; {} written.", parts.join("; "), summary.changed())
        },
    });
    r
}

/// The task of an import that was refused: `ERROR`, with its problems (the first
/// [`MAX_PROBLEMS`], and how many there were).
pub fn rejected(
    problems: &[Problem],
    files: &[String],
    launcher: Launcher,
    started: Timestamp,
    finished: Timestamp,
) -> Record {
    let mut r = base(files, launcher, started, finished);
    r.completion_status = "ERROR";
    for p in problems.iter().take(MAX_PROBLEMS) {
        r.report.messages.push(ReportMessage {
            level: "ERROR".into(),
            key: "import.problem".into(),
            text: p.to_string(),
        });
    }
    r.report.messages.push(ReportMessage {
        level: "ERROR".into(),
        key: "import.rejected".into(),
        text: format!(
            "{} problem{} found{}; nothing was imported.",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            if problems.len() > MAX_PROBLEMS {
                format!(" (the first {MAX_PROBLEMS} are listed)")
            } else {
                String::new()
            }
        ),
    });
    r.report
        .attributes
        .insert("problems".into(), json!(problems.len()));
    r.report
        .returns
        .push(("problems".into(), "problems".into()));
    r
}

/// `identity` → `identities`, as the file's member names say.
fn plural(kind: &str) -> String {
    KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or_else(|| kind.to_owned(), |(member, _)| spaced(member))
}

/// `governanceGroups` → `governance groups`.
fn spaced(member: &str) -> String {
    let mut out = String::new();
    for ch in member.chars() {
        if ch.is_uppercase() {
            out.push(' ');
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_file_format() {
        assert_eq!(camel("access profile"), "accessProfile");
        assert_eq!(plural("governance group"), "governance groups");
        assert_eq!(plural("identity"), "identities");
    }
}
