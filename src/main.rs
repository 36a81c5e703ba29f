//! The `scifeed` binary: parse the command line, call the library, print the whole error
//! chain, map the outcome to an exit code (0 ok, 1 some feeds failed or the store is
//! damaged, 2 config/usage/fatal, 130/143 stopped by SIGINT/SIGTERM).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use scifeed::cli::{
    AddArgs, Cli, Command, DiscoverArgs, OpmlArgs, PreviewArgs, ServeArgs, StoreArgs, StoreCommand,
};
use scifeed::config::{self, Overrides};
use scifeed::discover;
use scifeed::feed::{FeedSpec, Settings};
use scifeed::pipeline::{self, RunOptions};
use scifeed::store::{StateLocation, backend};
use scifeed::store_health;
use url::Url;

fn main() -> ExitCode {
    quiet_broken_pipe();
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

/// `scifeed ... | head` closes standard output early. Rust ignores SIGPIPE, so `println!`
/// panics; end quietly instead, with the status of a command killed by SIGPIPE (141), as
/// other command-line tools do. Files and the store are safe at any point (atomic renames,
/// transactions).
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn real_main(cli: &Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Check(args) => {
            let cfg = config::load(&args.config, &Overrides::default())?;
            if !cli.quiet {
                let files = match cfg.included.len() {
                    0 => String::new(),
                    n => format!(" from {} file(s)", n + 1),
                };
                println!(
                    "{}: OK, {} feed(s){files}",
                    args.config.display(),
                    cfg.feeds.len()
                );
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
                all: args.all,
            };
            let runtime = runtime()?;
            let report = runtime.block_on(pipeline::run(&cfg, &opts))?;
            if cli.quiet {
                for o in &report.outcomes {
                    if let scifeed::report::FeedStatus::Failed(f) = &o.status {
                        eprint!("{}", scifeed::report::failure_note(&o.id, f));
                    }
                }
            } else {
                print!("{}", report.table());
            }
            Ok(u8::try_from(report.exit_code()).unwrap_or(1))
        }
        Command::Serve(args) => serve_cmd(args, cli.quiet),
        Command::Opml(args) => opml_cmd(args, cli.quiet),
        Command::Discover(args) => discover_cmd(args),
        Command::Preview(args) => preview_cmd(args),
        Command::Add(args) => add_cmd(args),
        Command::Store(StoreCommand::Check(args)) => match state_location(args)? {
            StateLocation::File(path) => {
                let health = store_health::check(&path, args.wait)?;
                print!("{}", health.report());
                Ok(if health.ok() { 0 } else { 1 })
            }
            pg => {
                let health = store_health::check_shared(&pg)?;
                print!("{}", health.report());
                Ok(if health.ok() { 0 } else { 1 })
            }
        },
        Command::Store(StoreCommand::Repair(args)) => match state_location(args)? {
            StateLocation::File(path) => {
                let repair = store_health::repair(&path, args.wait)?;
                print!("{}", repair.report(&path));
                Ok(0)
            }
            pg => anyhow::bail!(
                "`store repair` rebuilds SQLite files; {pg} is PostgreSQL, whose own tools (pg_dump, pg_amcheck) repair it"
            ),
        },
        Command::Store(StoreCommand::Migrate(args)) => {
            let from = state_location(&args.store)?;
            let to = StateLocation::from_path(&args.to);
            anyhow::ensure!(from != to, "--to is the state itself ({to})");
            let opts = backend::OpenOptions {
                wait: args.store.wait,
                ..backend::OpenOptions::default()
            };
            let src = backend::open(&from, &opts)?;
            let dst = backend::open(&to, &opts)?;
            let report = scifeed::store::copy::copy_state(src.as_ref(), dst.as_ref())?;
            if !cli.quiet {
                println!(
                    "copied {from} to {to}: {} feed(s), {} item(s), {} validator(s), {} robots.txt, {} article(s), {} schedule(s)",
                    report.feeds,
                    report.items,
                    report.validators,
                    report.robots,
                    report.articles,
                    report.schedules
                );
            }
            Ok(0)
        }
    }
}

fn serve_cmd(args: &ServeArgs, quiet: bool) -> anyhow::Result<u8> {
    few_malloc_arenas();
    let overrides = Overrides {
        output_dir: args.output_dir.clone(),
        state: args.state.clone(),
    };
    let cfg = config::load(&args.config.config, &overrides)?;
    let opts = scifeed::serve::ServeOptions {
        listen: args.listen,
        every: args.every,
        stop_after: args.stop_after,
        quiet,
    };
    let runtime = runtime()?;
    runtime.block_on(scifeed::serve::serve(cfg, opts))?;
    // Blocking work still running (a store read, a render) must not hold up the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(0)
}

/// glibc gives every thread that allocates an arena of its own (up to 8 per core) and keeps
/// what it once held: a long-running `serve` whose rounds parse pages on many threads sits on
/// half its memory as freed, fragmented arenas (measured with 10,000 feeds: 152 MiB after the
/// first round, 101 MiB with two arenas, the round as fast). The limit can only be set before
/// the first allocation, so `serve` starts itself again once with `MALLOC_ARENA_MAX=2`,
/// unless the variable is set already (to any value: then it is the user's choice).
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt as _;
        let err = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("MALLOC_ARENA_MAX", "2")
            .exec();
        // Only reached when the exec failed: go on as we are.
        tracing::debug!("cannot restart with MALLOC_ARENA_MAX=2: {err}");
    }
}

fn opml_cmd(args: &OpmlArgs, quiet: bool) -> anyhow::Result<u8> {
    use scifeed::render::Format;
    let cfg = config::load(&args.config.config, &Overrides::default())?;
    let format = args
        .format
        .as_deref()
        .and_then(|f| Format::ALL.into_iter().find(|x| x.extension() == f));
    let xml = scifeed::serve::opml::for_static_hosting(&cfg, format)?;
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| cfg.settings.output_dir.join("feeds.opml"));
    if path.as_os_str() == "-" {
        use std::io::Write as _;
        std::io::stdout().write_all(&xml)?;
        return Ok(0);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    scifeed::output::write_all_if_changed(&[(path.clone(), xml)])
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", e.path.display(), e.source))?;
    if !quiet {
        println!("{}: {} feed(s)", path.display(), cfg.feeds.len());
    }
    Ok(0)
}

/// `--state` (or `SCIFEED_STATE`), else the config's `state`.
fn state_location(args: &StoreArgs) -> anyhow::Result<StateLocation> {
    match &args.state {
        Some(p) => Ok(StateLocation::from_path(p)),
        None => Ok(config::load(&args.config.config, &Overrides::default())?
            .settings
            .state),
    }
}

/// An http(s) URL, a file:// URL, or a path to a saved page.
fn page_url(s: &str) -> anyhow::Result<Url> {
    match Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https" | "file") => Ok(u),
        Ok(u) if u.scheme().len() > 1 => {
            anyhow::bail!("URL scheme `{}` is not supported: {s}", u.scheme())
        }
        _ => {
            let abs = std::path::absolute(s).with_context(|| format!("not a usable path: {s}"))?;
            Url::from_file_path(&abs).map_err(|()| anyhow::anyhow!("not a usable path: {s}"))
        }
    }
}

fn base_url(page: &Url, base: Option<&str>) -> anyhow::Result<Option<Url>> {
    match base {
        Some(b) => {
            let u = Url::parse(b).with_context(|| format!("--base-url {b:?} is not a URL"))?;
            anyhow::ensure!(
                matches!(u.scheme(), "http" | "https"),
                "--base-url {b:?} is not an http(s) URL"
            );
            Ok(Some(u))
        }
        None if page.scheme() == "file" => anyhow::bail!(
            "{page} is a saved page: pass --base-url with its original http(s) address so its links resolve"
        ),
        None => Ok(None),
    }
}

fn discover_cmd(args: &DiscoverArgs) -> anyhow::Result<u8> {
    let settings = match &args.config {
        Some(c) => config::load(c, &Overrides::default())?.settings,
        None => config::default_settings(),
    };
    let url = page_url(&args.url)?;
    let base = base_url(&url, args.base_url.as_deref())?;
    let page = match runtime()?.block_on(discover::fetch_page(&settings, &url)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    let d = discover::discover(
        &page.text,
        &page.url,
        &discover::DiscoverOptions {
            source: &url,
            base_url: base.as_ref(),
            now: chrono::Utc::now(),
            tz: chrono_tz::UTC,
            top: args.top.max(1),
            samples: args.samples,
            max_cards: settings.crawl.max_cards,
        },
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", discover::render_discovery(&d));
    }
    Ok(if d.candidates.is_empty() { 1 } else { 0 })
}

fn preview_cmd(args: &PreviewArgs) -> anyhow::Result<u8> {
    let cfg_path = args
        .config
        .clone()
        .unwrap_or_else(|| config::DEFAULT_PATH.into());
    let cfg = if args.config.is_some() || args.feed.is_some() {
        Some(config::load(&cfg_path, &Overrides::default())?)
    } else {
        None
    };
    let settings = cfg
        .as_ref()
        .map_or_else(config::default_settings, |c| c.settings.clone());
    let feed = match (&args.feed, &cfg) {
        (Some(id), Some(c)) => Some(
            c.feeds
                .iter()
                .find(|f| &f.id == id)
                .with_context(|| format!("no feed with id {id:?} in {}", cfg_path.display()))?
                .clone(),
        ),
        _ => None,
    };
    let (url, base) = match (&feed, &args.url) {
        (Some(f), _) => (f.url.clone(), f.base_url.clone()),
        (None, Some(u)) => {
            let url = page_url(u)?;
            let base = base_url(&url, args.base_url.as_deref())?;
            (url, base)
        }
        (None, None) => anyhow::bail!("give --feed ID or a URL"),
    };
    let page = match runtime()?.block_on(discover::fetch_page(&settings, &url)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    let now = args.now.unwrap_or_else(chrono::Utc::now);
    show_preview(
        &page,
        feed.as_ref(),
        base.as_ref(),
        &settings,
        now,
        args.json,
    )
}

/// Previews `page` with `feed`'s rules (auto-detection without a feed) and prints it; 1 when
/// no card came out.
fn show_preview(
    page: &discover::FetchedPage,
    feed: Option<&FeedSpec>,
    base: Option<&Url>,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    json: bool,
) -> anyhow::Result<u8> {
    // What the feed remembers (pin, healed selectors) and knows, so the preview reads the
    // listing `run` would read.
    let (memory, known) = match feed {
        Some(f) => remembered(&settings.state, &f.id),
        None => (None, Default::default()),
    };
    let opts = discover::PreviewOptions {
        feed,
        base_url: base,
        memory,
        known,
        now,
        max_cards: settings.crawl.max_cards,
    };
    match discover::preview(&page.text, &page.url, &opts) {
        Ok(p) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                print!("{}", discover::render_preview(&p));
            }
            Ok(if p.cards.is_empty() { 1 } else { 0 })
        }
        Err(e) => {
            eprintln!("error: {}: {e}", page.url);
            Ok(1)
        }
    }
}

/// `scifeed add`: discover, write the block where the config keeps feeds, preview it.
fn add_cmd(args: &AddArgs) -> anyhow::Result<u8> {
    let current = if args.config.exists() {
        Some(config::load(&args.config, &Overrides::default())?)
    } else {
        None
    };
    if let Some(id) = &args.id {
        anyhow::ensure!(
            config::valid_id(id),
            "{}",
            scifeed::add::AddError::BadId(id.clone())
        );
    }
    let settings = current
        .as_ref()
        .map_or_else(config::default_settings, |c| c.settings.clone());
    let url = page_url(&args.url)?;
    let base = base_url(&url, args.base_url.as_deref())?;
    let page = match runtime()?.block_on(discover::fetch_page(&settings, &url)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    let now = args.now.unwrap_or_else(chrono::Utc::now);
    let found = discover::discover(
        &page.text,
        &page.url,
        &discover::DiscoverOptions {
            source: &url,
            base_url: base.as_ref(),
            now,
            tz: chrono_tz::UTC,
            top: 1,
            samples: 0,
            max_cards: settings.crawl.max_cards,
        },
    );
    let Some(block) = &found.toml else {
        let why = found
            .diagnosis
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        eprintln!(
            "error: no article listing found on {url}{why}; nothing was added (`scifeed discover URL` shows what the page holds)"
        );
        return Ok(1);
    };
    let edit = scifeed::add::plan(
        &args.config,
        current.as_ref(),
        block,
        args.id.as_deref(),
        args.title.as_deref(),
    )?;
    scifeed::add::write(&edit)?;
    let feed = edit
        .config
        .feeds
        .iter()
        .find(|f| f.id == edit.id)
        .context("the new feed is in the config it was written to")?;
    println!("added feed \"{}\" to {}\n", edit.id, edit.file.display());
    show_preview(
        &page,
        Some(feed),
        base.as_ref(),
        &edit.config.settings,
        now,
        false,
    )
}

/// The listing a feed remembers and the ids of its items, read from the state without
/// taking the run lock. A state that cannot be read is a warning: the preview then shows
/// what a first run would do.
fn remembered(
    state: &StateLocation,
    feed: &str,
) -> (
    Option<scifeed::heal::ListingMemory>,
    std::collections::HashSet<String>,
) {
    let read = || -> Result<_, scifeed::store::StoreError> {
        match state {
            StateLocation::File(path) => {
                let Some(store) = scifeed::store::Store::open_read_only(path)? else {
                    return Ok((None, Default::default()));
                };
                Ok((store.listing_memory(feed)?, store.item_ids(feed)?))
            }
            // A shared state takes no lock: open it as a run would.
            StateLocation::Postgres(_) => {
                let store = backend::open(state, &backend::OpenOptions::default())?;
                Ok((store.listing_memory(feed)?, store.item_ids(feed)?))
            }
        }
    };
    read().unwrap_or_else(|e| {
        eprintln!("warning: {e}; previewing as a first run would");
        (None, Default::default())
    })
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
