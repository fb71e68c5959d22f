//! `gatehouse`: the one binary. `gatehouse serve` runs the service; `gatehouse migrate` brings a
//! database's schema up to date; `gatehouse import` and `gatehouse export` load and write tenant
//! files; `gatehouse rekey` seals stored secrets again under a new master key. `gatehouse --help`
//! is the reference for every option.

mod config;
mod keys;
mod serve;
mod transfer;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = config::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gatehouse: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            config::Command::Serve(args) => serve::serve(*args).await,
            config::Command::Migrate(args) => serve::migrate(args).await,
            config::Command::Import(args) => transfer::import(args).await,
            config::Command::Export(args) => transfer::export(args).await,
            config::Command::Rekey(args) => keys::rekey(args).await,
        }
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
