//! Rendering (temporary stub).
use crate::model::{FeedMeta, Item};
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}
impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }
}
pub fn render(_f: Format, meta: &FeedMeta, items: &[Item]) -> Vec<u8> {
    format!("{} {}", meta.title, items.len()).into_bytes()
}
