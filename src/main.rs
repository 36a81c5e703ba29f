//! The `scifeed` binary: parse the command line, call the library, print the whole error
//! chain, map the outcome to an exit code (0 ok, 1 some feeds failed or the store is
//! damaged, 2 config/usage/fatal, 130/143 stopped by SIGINT/SIGTERM).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use scifeed::cli::{Cli, Command, StoreArgs, StoreCommand};
use scifeed::config::{self, Overrides};
use scifeed::pipeline::{self, RunOptions};
use scifeed::store_health;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.verbose);
    match real_main(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main(cli: &Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Check(args) => {
            let cfg = config::load(&args.config, &Overrides::default())?;
            if !cli.quiet {
                println!("{}: OK, {} feed(s)", args.config.display(), cfg.feeds.len());
                for f in &cfg.feeds {
                    println!("  {:<24} {}", f.id, f.url);
                }
            }
            Ok(0)
        }
        Command::Run(args) => {
            let overrides = Overrides {
                output_dir: args.output_dir.clone(),
                state: args.state.clone(),
            };
            let cfg = config::load(&args.config.config, &overrides)?;
            let opts = RunOptions {
                wait: args.wait,
                only: args.feeds.clone(),
                now: args.now,
                progress: !cli.quiet && std::io::stderr().is_terminal(),
                signals: true,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let report = runtime.block_on(pipeline::run(&cfg, &opts))?;
            if cli.quiet {
                for o in &report.outcomes {
                    if let scifeed::report::FeedStatus::Failed(msg) = &o.status {
                        eprintln!("error: feed \"{}\": {msg}", o.id);
                    }
                }
            } else {
                print!("{}", report.table());
            }
            Ok(u8::try_from(report.exit_code()).unwrap_or(1))
        }
        Command::Store(StoreCommand::Check(args)) => {
            let health = store_health::check(&state_path(args)?, args.wait)?;
            print!("{}", health.report());
            Ok(if health.ok() { 0 } else { 1 })
        }
        Command::Store(StoreCommand::Repair(args)) => {
            let path = state_path(args)?;
            let repair = store_health::repair(&path, args.wait)?;
            print!("{}", repair.report(&path));
            Ok(0)
        }
    }
}

/// `--state`, else the config's `state`.
fn state_path(args: &StoreArgs) -> anyhow::Result<std::path::PathBuf> {
    match &args.state {
        Some(p) => Ok(p.clone()),
        None => Ok(config::load(&args.config.config, &Overrides::default())?
            .settings
            .state),
    }
}

fn init_logging(quiet: bool, verbose: u8) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("scifeed={default}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
