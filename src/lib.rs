//! scifeed: turns science-news listing pages into RSS 2.0, Atom 1.0 and JSON Feed files.
//!
//! Data flows one way: config -> fetch -> decode -> extract (-> heal) -> merge with the
//! store -> enrich -> commit -> render -> atomic write. [`pipeline`] is the only module that
//! knows that order.

pub mod add;
pub mod canon;
pub mod cli;
pub mod config;
pub mod decode;
pub mod discover;
pub mod enrich;
pub mod extract;
pub mod failpoint;
pub mod feed;
pub mod fetch;
pub mod heal;
pub mod merge;
pub mod model;
pub mod output;
pub mod paginate;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod report;
pub mod schedule;
pub mod serve;
pub mod shutdown;
pub mod store;
pub mod store_health;
pub mod work;
