//! Field parsers (temporary stub).
pub fn fold_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
pub fn parse_read_time(_s: &str) -> Option<u32> {
    None
}
pub fn parse_author(s: &str) -> Option<String> {
    Some(s.to_string())
}
