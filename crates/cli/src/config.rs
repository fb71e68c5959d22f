//! Command-line options; each also reads a `GATEHOUSE_*` environment variable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Gatehouse: access requests, approvals and service-desk provisioning, speaking SailPoint's API.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (migrates the database first).
    Serve(Box<ServeArgs>),
    /// Bring the database schema up to date and exit.
    Migrate(StoreArgs),
    /// Load tenant files (JSON, or CSV of identities or entitlements) into the tenant, all or
    /// nothing; see docs/IMPORT-FORMAT.md.
    Import(ImportArgs),
    /// Write the whole tenant as a tenant file (JSON), or its identities or entitlements as CSV.
    Export(ExportArgs),
    /// Seal every stored secret again under the primary master key (after a key rotation), so
    /// the retired keys can be dropped; safe to run beside live replicas and to run again.
    Rekey(RekeyArgs),
}

/// A tenant file's format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// The tenant file (docs/IMPORT-FORMAT.md).
    Json,
    /// Identities or entitlements, one per row.
    Csv,
}

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CsvKind {
    /// People.
    Identities,
    /// Entitlements.
    Entitlements,
}

/// Options of `gatehouse import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Storage.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Format of every file (default: csv for *.csv, json otherwise).
    #[arg(long)]
    pub format: Option<Format>,
    /// What a CSV file holds (default: entitlements when its header has `attribute` and `value`).
    #[arg(long)]
    pub kind: Option<CsvKind>,
    /// Empty the tenant first (keeping the start-up admin and its token), in the same transaction.
    #[arg(long)]
    pub replace: bool,
    /// The files, imported together in one transaction.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Options of `gatehouse rekey`.
#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Storage.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Master keys: the primary to seal under, the retired ones to open with.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Integrations sealed again per transaction.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
}

/// The master keys. Their `Debug` shows no key.
#[derive(Args, Clone)]
pub struct KeyArgs {
    /// Hex master key (at least 32 bytes) that seals stored secrets (service-desk credentials,
    /// the token-signing key, the key secrets are hashed with). Default: the file master.key in
    /// the data directory, created on first start. Replicas sharing PostgreSQL must share it.
    #[arg(long, env = "GATEHOUSE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Earlier master keys (hex, comma-separated) that still open what they sealed while keys
    /// are rotated: start with the new key as --master-key and the old one here, run
    /// `gatehouse rekey`, then start without the old one (README, "Rotating the master key").
    #[arg(
        long,
        env = "GATEHOUSE_RETIRED_MASTER_KEYS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub retired_master_keys: Vec<String>,
}

impl std::fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyArgs")
            .field("master_key", &masked(self.master_key.as_ref()))
            .field(
                "retired_master_keys",
                &vec![MASK; self.retired_master_keys.len()],
            )
            .finish()
    }
}

/// Options of `gatehouse export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Storage.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Format.
    #[arg(long, default_value = "json")]
    pub format: Format,
    /// With --format csv: identities or entitlements.
    #[arg(long, required_if_eq("format", "csv"))]
    pub kind: Option<CsvKind>,
    /// Where to write (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Where the data lives. Its `Debug` hides a password in the database URL.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Directory for the embedded SQLite database and the master key file.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "./gatehouse-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://user@host:port/db). When set, PostgreSQL is used instead of SQLite.
    #[arg(long, env = "GATEHOUSE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// SQLite durability: full (fsync every commit, the default) or normal (survives a process crash, not a power cut).
    #[arg(long, env = "GATEHOUSE_SQLITE_SYNCHRONOUS", default_value = "full")]
    pub sqlite_synchronous: Synchronous,
    /// PostgreSQL connections per process.
    #[arg(long, env = "GATEHOUSE_DATABASE_POOL", default_value_t = 16)]
    pub database_pool: u32,
}

/// `PRAGMA synchronous`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Synchronous {
    /// fsync at every commit.
    Full,
    /// fsync at checkpoints.
    Normal,
}

/// Which clock the business logic reads.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ClockKind {
    /// The machine's clock.
    System,
    /// Wall time plus an offset that `POST /gatehouse/v1/clock` moves forward (for tests).
    Virtual,
}

/// Options of `gatehouse serve`. Its `Debug` shows no secret (admin client secret, master key,
/// passwords in URLs).
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:7100")]
    pub listen: SocketAddr,
    /// Storage.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Per-client rate limit: requests/window (e.g. 100/10s, 1000/1m) or off.
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT", default_value = "100/10s")]
    pub rate_limit: String,
    /// Clock: system, or virtual (movable through the admin API).
    #[arg(long, env = "GATEHOUSE_CLOCK", default_value = "system")]
    pub clock: ClockKind,
    /// Client id of the admin personal access token to ensure at start-up (with the secret).
    #[arg(long, env = "GATEHOUSE_ADMIN_CLIENT_ID")]
    pub admin_client_id: Option<String>,
    /// Secret of the admin personal access token to ensure at start-up.
    #[arg(long, env = "GATEHOUSE_ADMIN_CLIENT_SECRET", hide_env_values = true)]
    pub admin_client_secret: Option<String>,
    /// Master keys.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Let service-desk URLs reach loopback and private networks (RFC 1918, unique-local,
    /// 127.0.0.0/8). Metadata and link-local addresses stay unreachable whatever this says.
    #[arg(long, env = "GATEHOUSE_ALLOW_PRIVATE_NETWORK")]
    pub allow_private_network: bool,
    /// Allow-list of what service-desk URLs may reach: networks in CIDR notation (10.20.0.0/16,
    /// fd00::/8, 192.0.2.7) and host names (desk.example.com, *.example.com), repeated or
    /// comma-separated. When given, nothing else is reachable, public or private; metadata and
    /// link-local addresses stay unreachable whatever it lists.
    #[arg(
        long,
        env = "GATEHOUSE_ALLOW_NETWORK",
        value_delimiter = ',',
        conflicts_with = "allow_private_network"
    )]
    pub allow_network: Vec<gatehouse_domain::net_guard::Allowed>,
    /// Task history: `keep` every task, or `strict`: hide tasks older than 90 days, as SailPoint does.
    #[arg(long, env = "GATEHOUSE_TASK_RETENTION", default_value = "keep", value_parser = ["keep", "strict"])]
    pub task_retention: String,
    /// SMTP relay for notifications (`smtp://host:port`, plain SMTP to a relay on a trusted
    /// network; `smtp://user:password@host:port` authenticates). Unset: notifications are only
    /// recorded.
    #[arg(long, env = "GATEHOUSE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender address of notifications.
    #[arg(
        long,
        env = "GATEHOUSE_SMTP_FROM",
        default_value = "Gatehouse <gatehouse@localhost>"
    )]
    pub smtp_from: String,
    /// Log level filter (e.g. info, debug, gatehouse_api=debug).
    #[arg(long, env = "GATEHOUSE_LOG", default_value = "info")]
    pub log: String,
    /// Start an empty data store empty instead of loading the demo tenant (Northwind Robotics) into it.
    #[arg(long, env = "GATEHOUSE_NO_DEMO")]
    pub no_demo: bool,
    /// Seconds to wait for in-flight requests at shutdown.
    #[arg(long, env = "GATEHOUSE_SHUTDOWN_GRACE", default_value_t = 20)]
    pub shutdown_grace: u64,
    /// Seconds a worker leases a job for: a job whose worker stopped (crashed, hung, or cut off)
    /// is taken by another worker once its lease has run out. A ticket job renews its lease
    /// before each desk call, so it must be at least the desk timeout plus 5 s.
    #[arg(long, env = "GATEHOUSE_JOB_LEASE", default_value_t = 60)]
    pub job_lease: u64,
    /// Seconds one call to a service desk may take in all (connect, send, read the answer).
    #[arg(long, env = "GATEHOUSE_DESK_TIMEOUT", default_value_t = 30)]
    pub desk_timeout: u64,
}

const MASK: &str = "********";

fn masked(v: Option<&String>) -> Option<&'static str> {
    v.map(|_| MASK)
}

impl std::fmt::Debug for StoreArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreArgs")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self
                    .database_url
                    .as_deref()
                    .map(gatehouse_store::redact_url),
            )
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("database_pool", &self.database_pool)
            .finish()
    }
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("store", &self.store)
            .field("rate_limit", &self.rate_limit)
            .field("clock", &self.clock)
            .field("admin_client_id", &self.admin_client_id)
            .field(
                "admin_client_secret",
                &masked(self.admin_client_secret.as_ref()),
            )
            .field("keys", &self.keys)
            .field("allow_private_network", &self.allow_private_network)
            .field("allow_network", &self.allow_network)
            .field("task_retention", &self.task_retention)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(gatehouse_store::redact_url),
            )
            .field("smtp_from", &self.smtp_from)
            .field("log", &self.log)
            .field("no_demo", &self.no_demo)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("job_lease", &self.job_lease)
            .field("desk_timeout", &self.desk_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// SEC-5 (docs/RELIABILITY.md): the parsed command line, printed with `{:?}`, holds none of
    /// the secrets given on it.
    #[test]
    fn debug_of_the_options_shows_no_secret() {
        let cli = Cli::try_parse_from([
            "gatehouse",
            "serve",
            "--admin-client-id",
            "admin",
            "--admin-client-secret",
            "CANARY-secret-1",
            "--master-key",
            "CANARY-00112233445566778899aabbccddeeff00112233445566778899aabbcc",
            "--retired-master-keys",
            "CANARY-1111,CANARY-2222",
            "--database-url",
            "postgres://g:CANARY-pw-2@db.example/g",
            "--smtp-url",
            "smtp://mailer:CANARY-pw-3@relay.example:25",
        ])
        .unwrap();
        let text = format!("{cli:?} {cli:#?}");
        assert!(!text.contains("CANARY"), "{text}");
        assert!(
            text.contains("db.example") && text.contains("relay.example"),
            "{text}"
        );
        let rekey = Cli::try_parse_from([
            "gatehouse",
            "rekey",
            "--master-key",
            "CANARY-00112233445566778899aabbccddeeff00112233445566778899aabbcc",
            "--retired-master-keys",
            "CANARY-1111",
        ])
        .unwrap();
        let text = format!("{rekey:?} {rekey:#?}");
        assert!(!text.contains("CANARY"), "{text}");
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
