//! Date parsing (temporary stub).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    Absolute,
    Relative,
}
pub struct DateContext<'a> {
    pub format: Option<&'a str>,
    pub tz: chrono_tz::Tz,
    pub now: chrono::DateTime<chrono::Utc>,
}
pub fn parse_date(
    text: &str,
    _ctx: &DateContext,
) -> Option<(chrono::DateTime<chrono::Utc>, DateKind)> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| (d.into(), DateKind::Absolute))
}
pub fn parse_tz(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse()
        .map_err(|_| format!("unknown timezone {name:?}"))
}
