//! URLs (temporary stub).
pub fn resolve(base: &url::Url, href: &str) -> Option<url::Url> {
    base.join(href.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}
pub fn canonical(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    u.to_string()
}
pub fn largest_srcset(s: &str) -> Option<&str> {
    s.split(',').last()?.split_whitespace().next()
}
