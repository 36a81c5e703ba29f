//! Command-line interface types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Turns science-news listing pages into RSS, Atom and JSON feeds that keep their history.
#[derive(Debug, Parser)]
#[command(name = "scifeed", version, about, long_about = None)]
pub struct Cli {
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log output (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch every feed of the config once and update its files (what cron runs).
    Run(RunArgs),
    /// Validate a config file without touching the network.
    Check(ConfigArg),
    /// Check or repair the state store (the SQLite history).
    #[command(subcommand)]
    Store(StoreCommand),
}

/// `scifeed store ...`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Integrity check, schema version, items per feed; exit 1 when damaged.
    Check(StoreArgs),
    /// Rebuild a damaged store from its readable rows, keeping the original as a backup.
    Repair(StoreArgs),
}

/// Which store `scifeed store` works on.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The state file (default: the config's `state`).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// If a run holds the state, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,
}

/// The config file to use.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Config file.
    #[arg(short, long, value_name = "FILE", default_value = crate::config::DEFAULT_PATH)]
    pub config: PathBuf,
}

/// Arguments of `scifeed run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Write feeds here instead of the config's `output_dir`.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Use this history file instead of the config's `state`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Only run this feed (repeatable).
    #[arg(long = "feed", value_name = "ID")]
    pub feeds: Vec<String>,
    /// If another run holds the state, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,
    /// Pretend the run happens at this RFC 3339 time (for tests and replays).
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}
