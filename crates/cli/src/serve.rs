//! `gatehouse serve` (loading the demo tenant into an empty store) and `gatehouse migrate`.

use crate::config::{ClockKind, ServeArgs, StoreArgs, Synchronous};
use crate::keys;
use anyhow::{bail, Context};
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::auth::secrets;
use gatehouse_api::{bootstrap, ApiConfig, AppState};
use gatehouse_domain::{Clock, SystemClock, VirtualClock};
use gatehouse_store::tenant_data;
use gatehouse_store::{Store, StoreConfig};
use std::sync::Arc;
use std::time::Duration;

fn store_config(args: &StoreArgs) -> anyhow::Result<StoreConfig> {
    Ok(match &args.database_url {
        Some(url) if !url.is_empty() => StoreConfig::Postgres {
            url: url.clone(),
            pool_size: args.database_pool,
        },
        _ => {
            std::fs::create_dir_all(&args.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {}",
                    args.data_dir.display()
                )
            })?;
            StoreConfig::Sqlite {
                path: args.data_dir.join("gatehouse.db"),
                synchronous: match args.sqlite_synchronous {
                    Synchronous::Full => gatehouse_store::Synchronous::Full,
                    Synchronous::Normal => gatehouse_store::Synchronous::Normal,
                },
            }
        }
    })
}

pub(crate) async fn open(args: &StoreArgs) -> anyhow::Result<Store> {
    let config = store_config(args)?;
    Store::open(config, SystemClock.now().millis())
        .await
        .context("cannot open the database")
}

/// `gatehouse migrate`.
pub async fn migrate(args: StoreArgs) -> anyhow::Result<()> {
    open(&args).await?;
    println!("schema is at version {}", gatehouse_store::latest_version());
    Ok(())
}

fn init_logs(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// `gatehouse serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logs(&args.log);
    let rate_limit: RateLimit = args.rate_limit.parse().map_err(anyhow::Error::msg)?;
    let desk = gatehouse_desk::DeskConfig {
        lease: Duration::from_secs(args.job_lease),
        total_timeout: Duration::from_secs(args.desk_timeout),
        ..gatehouse_desk::DeskConfig::default()
    };
    desk.check().map_err(anyhow::Error::msg)?;
    let ring = keys::keyring(&args.keys, &args.store.data_dir)?;
    let store = open(&args.store).await?;
    let virtual_clock = (args.clock == ClockKind::Virtual).then(|| Arc::new(VirtualClock::new()));
    let clock: Arc<dyn Clock> = match &virtual_clock {
        Some(v) => v.clone(),
        None => Arc::new(SystemClock),
    };
    let credentials = match (args.admin_client_id, args.admin_client_secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
        (None, None) => None,
        _ => bail!(
            "set both GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET, or neither"
        ),
    };
    let configured_id = credentials.as_ref().map(|(id, _)| id.clone());
    let demo = if args.no_demo {
        None
    } else {
        seed_demo(&store, clock.now()).await?
    };
    let prepared = bootstrap::prepare(&store, &ring, clock.now(), credentials)
        .await
        .context("cannot prepare the tenant")?;
    keys::check_stored(&store, &ring).await?;
    let state = AppState::new(
        store.clone(),
        clock.clone(),
        virtual_clock,
        prepared.signer.clone(),
        prepared.keys.clone(),
        ApiConfig {
            rate_limit,
            net: gatehouse_domain::net_guard::NetPolicy {
                allow_private: args.allow_private_network,
                allow: args.allow_network.clone().into(),
            },
            task_retention_strict: args.task_retention == "strict",
            desk,
            ..ApiConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    announce(&addr.to_string(), &prepared, configured_id.as_deref());
    if let Some(summary) = demo {
        announce_demo(&summary);
    }
    let runner = state.runner().clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut runner_stop = stop_rx.clone();
    let grace = Duration::from_secs(args.shutdown_grace);
    // Running jobs get half the grace to finish; the rest are stopped and their leases released
    // within the grace.
    let runner_task = tokio::spawn(runner.run_until(
        async move {
            let _ = runner_stop.changed().await;
        },
        grace / 2,
    ));
    if let Some(url) = &args.smtp_url {
        let mailer = gatehouse_api::notifications::Mailer::new(url, &args.smtp_from)
            .map_err(anyhow::Error::msg)?;
        let mut mail_stop = stop_rx.clone();
        tokio::spawn(mailer.run_until(
            state.store().clone(),
            state.clock().clone(),
            Duration::from_secs(2),
            async move {
                let _ = mail_stop.changed().await;
            },
        ));
    }
    let service = gatehouse_api::app(state);
    let server = axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service(service),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    let mut stop_watch = stop_rx;
    tokio::select! {
        r = server => r.context("the server failed")?,
        () = async {
            let _ = stop_watch.changed().await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!("in-flight requests did not finish within {grace:?}; exiting"),
    }
    let released = runner_task.await.unwrap_or(0);
    tracing::info!(released_jobs = released, "stopped");
    Ok(())
}

/// On a store without a tenant, creates it with the demo tenant's data (one transaction).
async fn seed_demo(
    store: &Store,
    now: gatehouse_domain::Timestamp,
) -> anyhow::Result<Option<tenant_data::Summary>> {
    let id = secrets::new_id();
    match store
        .write(move |c| tenant_data::seed_demo_if_new(c, &id, bootstrap::DEFAULT_TENANT, now))
        .await
    {
        Ok(s) => Ok(s),
        // Another replica created the tenant at the same moment.
        Err(gatehouse_store::StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e).context("cannot load the demo tenant"),
    }
}

fn announce_demo(s: &tenant_data::Summary) {
    let counts: Vec<String> = s
        .kinds
        .iter()
        .filter(|(_, c)| c.created > 0)
        .map(|(k, c)| format!("{} {k}", c.created))
        .collect();
    println!(
        "Loaded the demo tenant, Northwind Robotics: {}.",
        counts.join(", ")
    );
    println!(
        "  e.g. maya.patel (ORG_ADMIN), tom.becker (SERVICE_DESK_ADMIN), alice.nguyen (USER); start with --no-demo for an empty tenant."
    );
}

fn announce(addr: &str, p: &bootstrap::Prepared, configured: Option<&str>) {
    let base = format!("http://{addr}");
    println!("Gatehouse is serving tenant '{}' at {base}", p.tenant.name);
    match (&p.new_credentials, configured) {
        (Some((id, secret)), _) => {
            println!("An admin personal access token was created (shown only this once):");
            println!("  client id:     {id}");
            println!("  client secret: {secret}");
            println!("Get a token:");
            println!(
                "  curl -s -X POST '{base}/oauth/token' -d grant_type=client_credentials -d client_id={id} -d client_secret={secret}"
            );
        }
        (None, Some(id)) => {
            println!(
                "Admin client id: {id} (secret from GATEHOUSE_ADMIN_CLIENT_SECRET). Get a token:"
            );
            println!(
                "  curl -s -X POST '{base}/oauth/token' -d grant_type=client_credentials -d client_id={id} -d \"client_secret=$GATEHOUSE_ADMIN_CLIENT_SECRET\""
            );
        }
        (None, None) => {
            println!("The admin credentials were printed when this data directory was first used.");
            println!("To choose them instead, set GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET.");
        }
    }
    println!("SailPoint SDKs: SAIL_BASE_URL={base} SAIL_CLIENT_ID=... SAIL_CLIENT_SECRET=...");
}
