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
    /// Fetch the feeds of the config that are due (all without `every`) and update their files (what cron runs).
    Run(RunArgs),
    /// Validate a config file without touching the network.
    Check(ConfigArg),
    /// Find the article listings of a page and print ready-to-paste selectors.
    Discover(DiscoverArgs),
    /// Fetch a feed's page as `run` does and show what each selector finds (writes nothing).
    Preview(PreviewArgs),
    /// Find the listing of a page and add it to the config as a new feed, then preview it.
    Add(AddArgs),
    /// Run the crawl on schedule and serve the feeds, an index, health and metrics over HTTP.
    Serve(ServeArgs),
    /// Write an OPML list of every feed (for static hosting; links use [settings] public_url).
    Opml(OpmlArgs),
    /// Check, repair or migrate the state store (SQLite file or PostgreSQL database).
    #[command(subcommand)]
    Store(StoreCommand),
}

/// Arguments of `scifeed serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Address and port to listen on (default: [serve] listen, else 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// How often feeds without their own `every` are fetched ("15m", "2h"; default:
    /// [settings] every, else 30m). The schedule adapts within every .. max_every.
    #[arg(long, value_name = "DURATION", value_parser = crate::schedule::parse_duration)]
    pub every: Option<std::time::Duration>,
    /// Write feeds here instead of the config's `output_dir`.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Use this history file instead of the config's `state`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Stop by itself after this long, as on SIGTERM (tests and benchmarks).
    #[arg(long, value_name = "DURATION", hide = true, value_parser = crate::schedule::parse_duration)]
    pub stop_after: Option<std::time::Duration>,
}

/// Arguments of `scifeed opml`.
#[derive(Debug, Args)]
pub struct OpmlArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Feed format the list links to (default: rss when written).
    #[arg(long, value_name = "FORMAT", value_parser = ["rss", "atom", "json"])]
    pub format: Option<String>,
    /// Where to write it (default: <output_dir>/feeds.opml; `-` for standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `scifeed store ...`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Integrity check, schema version, items per feed; exit 1 when damaged.
    Check(StoreArgs),
    /// Rebuild a damaged store from its readable rows, keeping the original as a backup.
    Repair(StoreArgs),
    /// Copy the whole state into another (empty) one: SQLite to PostgreSQL, or back.
    Migrate(MigrateArgs),
}

/// Arguments of `scifeed store migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Where to copy it: `postgres://user@host:5432/db` or an SQLite file.
    #[arg(long, value_name = "TARGET")]
    pub to: PathBuf,
}

/// Which store `scifeed store` works on.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The state: an SQLite file or `postgres://...` (default: the config's `state`).
    #[arg(long, value_name = "FILE|URL", env = "SCIFEED_STATE")]
    pub state: Option<PathBuf>,
    /// If a run holds the state, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,
}

/// Arguments of `scifeed discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The listing page: an http(s) URL, a file:// URL or a saved file.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The page's original address, for saved pages (links resolve against it).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Candidates shown.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub top: usize,
    /// Sample cards shown per candidate.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub samples: usize,
    /// Config whose [settings] (user agent, timeouts) the fetch uses; defaults when absent.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Arguments of `scifeed preview`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["feed", "url"]))]
pub struct PreviewArgs {
    /// Config file (for --feed, and the [settings] of the fetch).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Preview this feed of the config.
    #[arg(long, value_name = "ID")]
    pub feed: Option<String>,
    /// Preview a page with auto-detection instead (http(s), file:// or a saved file).
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// The page's original address, for saved pages given as URL.
    #[arg(long, value_name = "URL", requires = "url")]
    pub base_url: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Pretend the fetch happens at this RFC 3339 time (relative dates resolve against it).
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// Arguments of `scifeed add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The listing page: an http(s) URL, a file:// URL or a saved file.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Id of the new feed (its file names); default: from the site's host name.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Title of the new feed; default: the page's.
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// The page's original address, for saved pages (links resolve against it).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Config to add the feed to (created if missing). When it includes `DIR/*.toml`, the
    /// feed goes into `DIR/<id>.toml`.
    #[arg(short, long, value_name = "FILE", default_value = crate::config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Pretend the fetch happens at this RFC 3339 time (relative dates resolve against it).
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
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
    /// Use this state instead of the config's `state`: an SQLite file or `postgres://...`.
    #[arg(long, value_name = "FILE|URL", env = "SCIFEED_STATE")]
    pub state: Option<PathBuf>,
    /// Only run this feed (repeatable).
    #[arg(long = "feed", value_name = "ID")]
    pub feeds: Vec<String>,
    /// If another run holds the state, wait for it instead of exiting.
    #[arg(long)]
    pub wait: bool,
    /// Fetch every feed now, also those whose schedule (`every`) says they are not due.
    #[arg(long)]
    pub all: bool,
    /// Pretend the run happens at this RFC 3339 time (for tests and replays).
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}
