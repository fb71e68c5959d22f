//! `gatehouse import` and `gatehouse export`: tenant files in and out, straight against the
//! database (no server needed). An import is checked whole, then written in one transaction, or
//! not at all; a terminal gets a progress bar on standard error, and the end a summary.

use crate::config::{CsvKind, ExportArgs, Format, ImportArgs};
use crate::serve::open;
use anyhow::{bail, Context};
use gatehouse_api::auth::secrets;
use gatehouse_api::bootstrap;
use gatehouse_domain::{Clock, SystemClock};
use gatehouse_store::task_status;
use gatehouse_store::tenant_data::task::{self, Launcher};
use gatehouse_store::tenant_data::{self, Outcome, Progress, Summary, TenantFile};
use gatehouse_store::tenants::{self, Keep};
use gatehouse_store::StoreError;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Who an import's task says ran it.
const LAUNCHER: Launcher = Launcher::Command("gatehouse import");

fn store_kind(k: CsvKind) -> tenant_data::CsvKind {
    match k {
        CsvKind::Identities => tenant_data::CsvKind::Identities,
        CsvKind::Entitlements => tenant_data::CsvKind::Entitlements,
    }
}

/// A bar on standard error when it is a terminal, fed from `progress` until `stop`.
fn progress_bar(progress: Arc<Progress>) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "{msg:>10} [{bar:40.cyan/blue}] {human_pos}/{human_len} ({elapsed}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let shown = bar.clone();
    let task = tokio::spawn(async move {
        loop {
            let (phase, done, total) = progress.get();
            shown.set_message(phase);
            shown.set_length(total);
            shown.set_position(done);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (bar, task)
}

fn print_summary(s: &Summary, took: Duration) {
    println!(
        "{:<18} {:>10} {:>10} {:>10}",
        "", "created", "updated", "unchanged"
    );
    let mut rows = 0;
    for (kind, c) in &s.kinds {
        rows += c.created + c.updated + c.unchanged;
        println!(
            "{:<18} {:>10} {:>10} {:>10}",
            kind, c.created, c.updated, c.unchanged
        );
    }
    let secs = took.as_secs_f64().max(1e-3);
    println!(
        "{rows} records in {secs:.1} s ({:.0} records/s); {} written.",
        rows as f64 / secs,
        s.changed()
    );
}

/// `gatehouse import FILE...`.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let progress = Arc::new(Progress::new());
    let (bar, ticker) = progress_bar(progress.clone());
    let mut file = TenantFile::new();
    progress.start("reading", args.files.len() as u64);
    for path in &args.files {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let csv = match args.format {
            Some(f) => f == Format::Csv,
            None => path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
        };
        let name = path.display().to_string();
        file = tokio::task::spawn_blocking(move || {
            if csv {
                let kind = args
                    .kind
                    .map_or_else(|| tenant_data::CsvKind::from_header(&text), store_kind);
                file.add_csv(&name, &text, kind);
            } else {
                file.add_json(&name, &text);
            }
            file
        })
        .await?;
        progress.add(1);
    }
    let store = open(&args.store).await?;
    let now = SystemClock.now();
    let tenant_id = secrets::new_id();
    let replace = args.replace;
    let names: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let p = progress.clone();
    // A refused file rolls the whole transaction back (a `--replace` included); its problems
    // come out beside the error, and are then recorded as a failed task on their own.
    let refused = Arc::new(std::sync::Mutex::new(None));
    let refused_w = refused.clone();
    let task_files = names.clone();
    let outcome = store
        .write(move |c| {
            let tenant = tenants::ensure_default(c, &tenant_id, bootstrap::DEFAULT_TENANT, now)?;
            if replace {
                let keep = Keep::for_caller(c, &tenant.id, None, None)?;
                tenants::reset(c, &tenant.id, &keep)?;
            }
            match tenant_data::import(c, &tenant.id, file, now, &p)? {
                Outcome::Imported(summary) => {
                    let record =
                        task::imported(&summary, &task_files, LAUNCHER, now, SystemClock.now());
                    task_status::record(c, &tenant.id, &record)?;
                    Ok(Outcome::Imported(summary))
                }
                Outcome::Rejected(problems) => {
                    *refused_w.lock().unwrap_or_else(|e| e.into_inner()) = Some(problems);
                    Err(StoreError::Constraint("the import was refused".into()))
                }
            }
        })
        .await;
    let refused = refused.lock().unwrap_or_else(|e| e.into_inner()).take();
    let outcome = match (outcome, refused) {
        (Err(_), Some(problems)) => {
            // Recorded only in a tenant that already existed: a refused first import leaves the
            // database without a tenant, as it found it.
            let record = task::rejected(&problems, &names, LAUNCHER, now, SystemClock.now());
            store
                .write(move |c| match tenants::first(c)? {
                    Some(t) => task_status::record(c, &t.id, &record).map(|_| ()),
                    None => Ok(()),
                })
                .await
                .context("cannot record the refused import as a task")?;
            Ok(Outcome::Rejected(problems))
        }
        (other, _) => other,
    };
    ticker.abort();
    bar.finish_and_clear();
    match outcome.context("the import failed; nothing was written")? {
        Outcome::Imported(summary) => {
            print_summary(&summary, started.elapsed());
            Ok(())
        }
        Outcome::Rejected(problems) => {
            let mut err = std::io::stderr().lock();
            for p in &problems {
                writeln!(err, "{p}")?;
            }
            bail!(
                "{} problem{} found; nothing was imported",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            )
        }
    }
}

/// `gatehouse export`.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let store = open(&args.store).await?;
    let Some(tenant) = store.read(tenants::first).await? else {
        bail!("the database has no tenant yet");
    };
    let id = tenant.id.clone();
    let export = store
        .read(move |c| tenant_data::export(c, &id))
        .await
        .context("cannot read the tenant")?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let written = match (args.format, args.kind) {
        (Format::Json, _) => export.write_json(&mut out),
        (Format::Csv, Some(kind)) => export.write_csv(&mut out, store_kind(kind)),
        (Format::Csv, None) => bail!("--format csv needs --kind identities or --kind entitlements"),
    }
    .and_then(|()| out.flush());
    match written {
        // The reader went away (`gatehouse export | head`): not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other?,
    }
    let counts: Vec<String> = export
        .kinds
        .iter()
        .map(|(k, v)| format!("{} {k}", v.len()))
        .collect();
    eprintln!("exported tenant '{}': {}", tenant.name, counts.join(", "));
    Ok(())
}
