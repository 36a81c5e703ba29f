//! The `scifeed` binary: parse the command line, call the library, print the whole error
//! chain, map the outcome to an exit code (0 ok, 1 some feeds failed, 2 config/usage/fatal).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use scifeed::cli::{Cli, Command};
use scifeed::config::{self, Overrides};
use scifeed::pipeline::{self, RunOptions};

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
            };
            let runtime = runtime()?;
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
    }
}

/// The run's runtime. Parsing, SQLite and file writes run on the blocking pool; its default of
/// 512 threads would let hundreds of pages be parsed at once on a big run, each holding its
/// tree in memory, for no gain on a few cores. A few threads per core keep the cores busy
/// while some threads wait for fsync.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads((2 * cores + 4).min(64))
        .enable_all()
        .build()
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
