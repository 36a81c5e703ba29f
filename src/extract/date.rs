//! Date parsing: a date string found on a page (a `<time datetime>`, a dateline, "3 hours ago")
//! plus a [`DateContext`] in, a UTC instant out.
//!
//! Pure: the feed's time zone and the fetch time come in through the context, never from the
//! clock. Text forms are read by a small tokenizer instead of a list of format strings, so a
//! date embedded in a longer line ("Published: Nov. 26, 2026 | 4 min read") is found too.

use chrono::{
    DateTime, Datelike, Days, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use super::text::fold_ws;

/// How a date was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    /// Printed or encoded on the page as a calendar date.
    Absolute,
    /// A phrase relative to the fetch time ("3 hours ago", "yesterday"); must be frozen.
    Relative,
}

/// Inputs that make date parsing pure: optional chrono format from config, the feed's IANA zone
/// (used for dates without offset), and fetch time (anchor for relative phrases).
#[derive(Debug, Clone, Copy)]
pub struct DateContext<'a> {
    /// A chrono strftime format from the feed's config, tried before anything else.
    pub format: Option<&'a str>,
    /// Zone for local times and date-only values.
    pub tz: Tz,
    /// Fetch time: anchor for relative phrases and upper bound for plausible years.
    pub now: DateTime<Utc>,
}

/// Earliest year accepted: nothing older is news, and it stops "1 Jan 1970" placeholders.
const MIN_YEAR: i32 = 1990;

/// Parses a date string found on a page into UTC; the first rule that matches wins:
///
/// 1. the configured `format` (no time part: midnight in `tz`; no offset: `tz`);
/// 2. RFC 3339 and RFC 2822 as a whole string;
/// 3. the leftmost calendar date in the text: ISO "2026-11-26" (with optional time), "2026/11/26",
///    "11/12/2026" (slashes are US month/day, read as day/month only when month/day is
///    impossible; dashes with the year first are year-month-day, with the year last only
///    when one order alone is a date: "24-11-2026"), "26.11.2026" (day.month.year),
///    "24-Nov-2026", and month
///    names in English, German, French and Spanish, with an optional following time, am/pm and
///    zone ("GMT", "+0100", "EST", "CET");
/// 4. relative phrases anchored at `ctx.now`: "3 hours ago", "vor 2 Stunden", "il y a 3 heures",
///    "hace 2 días", "7h", "just now". "today" is `now` and "yesterday" is `now` minus 24 h, since
///    the page gives no time of day; with a time ("yesterday at 5 PM") it is that local time;
/// 5. a date without a year that is the whole text ("Nov 26"), as the latest such day up to a
///    day after `ctx.now` (see [`yearless`]); frozen at first sight like a relative phrase.
///
/// Local times in a DST gap resolve to the first valid instant after the gap; ambiguous local
/// times take the earlier instant. Impossible dates (Feb 30), years before 1990 or after next
/// year, and text without a date give None, never `now`.
pub fn parse_date(text: &str, ctx: &DateContext) -> Option<(DateTime<Utc>, DateKind)> {
    let text = fold_ws(text);
    if text.is_empty() {
        return None;
    }
    let plausible = |t: DateTime<Utc>| {
        (MIN_YEAR..=ctx.now.year().saturating_add(1))
            .contains(&t.year())
            .then_some(t)
    };
    let absolute = |t| plausible(t).map(|t| (t, DateKind::Absolute));

    if let Some(found) = ctx
        .format
        .and_then(|f| parse_with_format(&text, f, ctx.tz))
        .and_then(absolute)
    {
        return Some(found);
    }
    for parsed in [
        DateTime::parse_from_rfc3339(&text),
        DateTime::parse_from_rfc2822(&text),
    ] {
        if let Some(found) = parsed.ok().and_then(|t| absolute(t.to_utc())) {
            return Some(found);
        }
    }

    let lower = text.to_lowercase();
    let toks = tokenize(&lower);
    let found_absolute = (0..toks.len())
        .filter_map(|i| calendar_date_at(&toks, i))
        .find_map(|m| m.to_utc(ctx.tz).and_then(absolute));
    if found_absolute.is_some() {
        return found_absolute;
    }
    (0..toks.len())
        .filter_map(|i| relative_at(&toks, i, ctx))
        .find_map(plausible)
        .or_else(|| yearless(&toks, ctx))
        .map(|t| (t, DateKind::Relative))
}

/// A date printed without its year ("Nov 26", "26. November", "Tue, Nov 26 10:30 AM"), as
/// listings print this year's stories: only when that is the whole text (a weekday may
/// lead it, a time follow it), read as the latest such day within the year before the fetch
/// time that is not after the fetch time plus one day (a story from "Nov 27" seen on Nov 26 is from a zone ahead; one from "Dec 24" is
/// last year's). It depends on the fetch time, so it is frozen at first sight like a
/// relative date.
fn yearless(toks: &[Tok<'_>], ctx: &DateContext) -> Option<DateTime<Utc>> {
    let mut i = 0;
    if word(toks, i).is_some_and(is_weekday) {
        i += 1;
        while matches!(punct(toks, i), Some(',' | '.')) {
            i += 1;
        }
    }
    let (m, d, mut j) = if let Some(m) = word(toks, i).and_then(month_of) {
        let mut j = i + 1;
        if punct(toks, j) == Some('.') {
            j += 1;
        }
        let d = num(toks, j, 2)?;
        j += 1;
        if word(toks, j).is_some_and(is_ordinal_suffix) && glued(toks, j) {
            j += 1;
        }
        (m, d, j)
    } else {
        let d = num(toks, i, 2)?;
        let mut j = i + 1;
        if punct(toks, j) == Some('.') || word(toks, j).is_some_and(is_ordinal_suffix) {
            j += 1;
        }
        if matches!(word(toks, j), Some("de" | "of")) {
            j += 1;
        }
        let m = word(toks, j).and_then(month_of)?;
        j += 1;
        if punct(toks, j) == Some('.') {
            j += 1;
        }
        (m, d, j)
    };
    if matches!(punct(toks, j), Some(',')) {
        j += 1;
    }
    let (time, zone) = match time_after(toks, j) {
        Some((time, zone, end)) => {
            j = end;
            (Some(time), zone)
        }
        None => (None, None),
    };
    if j != toks.len() {
        return None;
    }
    let latest = ctx.now + chrono::Duration::days(1);
    (ctx.now.year() - 1..=ctx.now.year() + 1)
        .rev()
        .filter_map(|y| {
            let date = NaiveDate::from_ymd_opt(y, m, d)?;
            Found {
                date,
                time,
                zone,
                end: j,
            }
            .to_utc(ctx.tz)
        })
        .find(|t| *t <= latest)
        .filter(|t| t.year() >= MIN_YEAR)
}

/// Parses a config `timezone` value ("Europe/Berlin", "UTC").
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    let trimmed = name.trim();
    if let Ok(tz) = trimmed.parse::<Tz>() {
        return Ok(tz);
    }
    match chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(trimmed))
    {
        Some(tz) => Err(format!(
            "unknown time zone {name:?}: names are case-sensitive, did you mean \"{}\"?",
            tz.name()
        )),
        None => Err(format!(
            "unknown time zone {name:?}: expected an IANA name such as \"Europe/Berlin\", \
             \"America/New_York\" or \"UTC\""
        )),
    }
}

/// The publication day an article URL states: `/2018/03/16/slug`, `/2026/nov/24/slug`,
/// `/2026-11-24-slug`, `/slug-20261124/`. Midnight of that day in `ctx.tz`. A year and month
/// alone (`/2018/03/slug`) say nothing about the day, so they give None, as do impossible
/// dates, years before 1990 and days after `ctx.now`.
pub fn date_from_url(url: &url::Url, ctx: &DateContext) -> Option<DateTime<Utc>> {
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    let plausible = |d: NaiveDate| {
        let t = local_to_utc(ctx.tz, d.and_time(NaiveTime::MIN))?;
        (d.year() >= MIN_YEAR && t <= ctx.now).then_some(t)
    };
    // Three segments in a row: year, month (number or name), day.
    for w in segments.windows(3) {
        let (Some(y), Some(m), Some(d)) = (
            url_number(w[0], 4),
            url_number(w[1], 2).or_else(|| month_of(&w[1].to_lowercase())),
            url_number(w[2], 2),
        ) else {
            continue;
        };
        if let Some(t) = i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
            .and_then(plausible)
        {
            return Some(t);
        }
    }
    // One segment: "2026-11-24-slug", "2026-11-24", "slug-20261124", "slug_20261124.html".
    for seg in &segments {
        let stem = seg.split('.').next().unwrap_or(seg);
        let lead = stem
            .get(..10)
            .filter(|_| stem.len() == 10 || stem[10..].starts_with(['-', '_']))
            .and_then(|h| NaiveDate::parse_from_str(h, "%Y-%m-%d").ok());
        let tail = stem
            .rsplit(['-', '_'])
            .next()
            .filter(|t| t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) && *t != stem)
            .and_then(|t| NaiveDate::parse_from_str(t, "%Y%m%d").ok());
        if let Some(t) = lead.or(tail).and_then(plausible) {
            return Some(t);
        }
    }
    None
}

/// A path segment that is a number of at most `max_digits` digits (years exactly four).
fn url_number(seg: &str, max_digits: usize) -> Option<u32> {
    let ok = if max_digits == 4 {
        seg.len() == 4
    } else {
        (1..=max_digits).contains(&seg.len())
    };
    (ok && seg.bytes().all(|b| b.is_ascii_digit()))
        .then(|| seg.parse().ok())
        .flatten()
}

/// Whether `s` holds a date anywhere (absolute or relative); used to drop date parts of bylines.
pub(crate) fn looks_like_date(s: &str) -> bool {
    // The anchor only bounds plausible years here, so any far-future instant will do.
    let Some(now) = NaiveDate::from_ymd_opt(2200, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)) else {
        return false;
    };
    let ctx = DateContext {
        format: None,
        tz: Tz::UTC,
        now: now.and_utc(),
    };
    parse_date(s, &ctx).is_some()
}

/// Whether `s` is one calendar date and nothing else (a weekday and punctuation aside).
pub(crate) fn is_whole_date(s: &str) -> bool {
    let lower = s.to_lowercase();
    let toks = tokenize(&lower);
    let Some(start) = toks
        .iter()
        .position(|t| !matches!(t.t, T::P(_)) && !matches!(t.t, T::Word(w) if is_weekday(w)))
    else {
        return false;
    };
    calendar_date_at(&toks, start)
        .is_some_and(|m| toks[m.end..].iter().all(|t| matches!(t.t, T::P(_))))
}

fn parse_with_format(text: &str, format: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_str(text, format) {
        return Some(t.to_utc());
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
        return local_to_utc(tz, naive);
    }
    let date = NaiveDate::parse_from_str(text, format).ok()?;
    local_to_utc(tz, date.and_time(NaiveTime::MIN))
}

/// Local wall-clock time in `tz` to UTC, applying the DST rules documented on [`parse_date`].
fn local_to_utc(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.to_utc()),
        LocalResult::Ambiguous(a, b) => Some(a.to_utc().min(b.to_utc())),
        LocalResult::None => {
            // Gaps are whole minutes long and at most a day (Samoa 2011), so walking whole
            // minutes finds the gap's end, which is the first instant that exists.
            let start = naive.with_second(0)?.with_nanosecond(0)?;
            (1..=(26 * 60)).find_map(|m| {
                let t = start.checked_add_signed(TimeDelta::try_minutes(m)?)?;
                match tz.from_local_datetime(&t) {
                    LocalResult::Single(t) => Some(t.to_utc()),
                    LocalResult::Ambiguous(a, b) => Some(a.to_utc().min(b.to_utc())),
                    LocalResult::None => None,
                }
            })
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum T<'a> {
    /// Value (saturated) and digit count: "2026" is a year, "05" a minute.
    Num(u32, u8),
    Word(&'a str),
    P(char),
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    t: T<'a>,
    /// No whitespace before this token: tells "2026-11-26" from "2026 - 11".
    glued: bool,
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut glued = false;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            glued = false;
            continue;
        }
        let t = if c.is_ascii_digit() {
            let mut value: u32 = c.to_digit(10).unwrap_or(0);
            let mut digits: u8 = 1;
            while let Some(d) = chars.peek().and_then(|&(_, c)| c.to_digit(10)) {
                value = value.saturating_mul(10).saturating_add(d);
                digits = digits.saturating_add(1);
                chars.next();
            }
            T::Num(value, digits)
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, c)) = chars.peek() {
                if !c.is_alphabetic() {
                    break;
                }
                end = j + c.len_utf8();
                chars.next();
            }
            T::Word(&s[i..end])
        } else {
            T::P(c)
        };
        toks.push(Tok { t, glued });
        glued = true;
    }
    toks
}

fn num(toks: &[Tok<'_>], i: usize, max_digits: u8) -> Option<u32> {
    match toks.get(i)?.t {
        T::Num(v, d) if d <= max_digits => Some(v),
        _ => None,
    }
}

fn year(toks: &[Tok<'_>], i: usize) -> Option<i32> {
    match toks.get(i)?.t {
        T::Num(v, 4) => i32::try_from(v).ok(),
        _ => None,
    }
}

fn word<'a>(toks: &[Tok<'a>], i: usize) -> Option<&'a str> {
    match toks.get(i)?.t {
        T::Word(w) => Some(w),
        _ => None,
    }
}

fn punct(toks: &[Tok<'_>], i: usize) -> Option<char> {
    match toks.get(i)?.t {
        T::P(c) => Some(c),
        _ => None,
    }
}

fn glued(toks: &[Tok<'_>], i: usize) -> bool {
    toks.get(i).is_some_and(|t| t.glued)
}

/// Month names and abbreviations in English, German, French and Spanish (lower case). None of
/// them names two different months, so one table serves all four languages.
fn month_of(w: &str) -> Option<u32> {
    Some(match w {
        "january" | "jan" | "januar" | "jänner" | "janvier" | "janv" | "enero" | "ene" => 1,
        "february" | "feb" | "februar" | "février" | "fevrier" | "févr" | "fevr" | "febrero" => 2,
        "march" | "mar" | "märz" | "maerz" | "mär" | "mars" | "marzo" => 3,
        "april" | "apr" | "avril" | "avr" | "abril" | "abr" => 4,
        "may" | "mai" | "mayo" => 5,
        "june" | "jun" | "juni" | "juin" | "junio" => 6,
        "july" | "jul" | "juli" | "juillet" | "juil" | "julio" => 7,
        "august" | "aug" | "août" | "aout" | "agosto" | "ago" => 8,
        "september" | "sep" | "sept" | "septembre" | "septiembre" | "setiembre" => 9,
        "october" | "oct" | "oktober" | "okt" | "octobre" | "octubre" => 10,
        "november" | "nov" | "novembre" | "noviembre" => 11,
        "december" | "dec" | "dezember" | "dez" | "décembre" | "decembre" | "déc" | "diciembre"
        | "dic" => 12,
        _ => return None,
    })
}

fn is_weekday(w: &str) -> bool {
    matches!(
        w,
        "monday"
            | "tuesday"
            | "wednesday"
            | "thursday"
            | "friday"
            | "saturday"
            | "sunday"
            | "mon"
            | "tue"
            | "tues"
            | "wed"
            | "thu"
            | "thur"
            | "thurs"
            | "fri"
            | "sat"
            | "sun"
            | "montag"
            | "dienstag"
            | "mittwoch"
            | "donnerstag"
            | "freitag"
            | "samstag"
            | "sonntag"
            | "lundi"
            | "mardi"
            | "mercredi"
            | "jeudi"
            | "vendredi"
            | "samedi"
            | "dimanche"
            | "lunes"
            | "martes"
            | "miércoles"
            | "jueves"
            | "viernes"
            | "sábado"
            | "domingo"
    )
}

fn is_ordinal_suffix(w: &str) -> bool {
    matches!(
        w,
        "st" | "nd" | "rd" | "th" | "er" | "re" | "ère" | "e" | "º" | "o"
    )
}

/// A zone written after a time.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

/// A calendar date found at some token, with the time and zone that followed it, if any.
#[derive(Debug, Clone, Copy)]
struct Found {
    date: NaiveDate,
    time: Option<NaiveTime>,
    zone: Option<Zone>,
    end: usize,
}

impl Found {
    fn to_utc(self, tz: Tz) -> Option<DateTime<Utc>> {
        let naive = self.date.and_time(self.time.unwrap_or(NaiveTime::MIN));
        match self.zone {
            Some(Zone::Fixed(off)) => off.from_local_datetime(&naive).single().map(|t| t.to_utc()),
            Some(Zone::Named(zone)) => local_to_utc(zone, naive),
            None => local_to_utc(tz, naive),
        }
    }
}

/// A calendar date starting at token `i`, with the time that follows it, or a time starting at
/// `i` followed by a date ("10:30 AM, Nov. 26, 2026").
fn calendar_date_at(toks: &[Tok<'_>], i: usize) -> Option<Found> {
    let date_at = |i: usize| {
        numeric_ymd(toks, i)
            .or_else(|| numeric_dmy(toks, i))
            .or_else(|| month_first(toks, i))
            .or_else(|| day_first(toks, i))
    };
    if let Some((date, end)) = date_at(i) {
        let (time, zone, end) = match time_after(toks, end) {
            Some((time, zone, end)) => (Some(time), zone, end),
            None => (None, None, end),
        };
        return Some(Found {
            date,
            time,
            zone,
            end,
        });
    }
    let (time, zone, after_time) = clock_at(toks, i)?;
    let mut j = after_time;
    while j < after_time + 2
        && (matches!(punct(toks, j), Some(',' | '·' | '-' | '–' | '—'))
            || matches!(word(toks, j), Some("on" | "am" | "le" | "el")))
    {
        j += 1;
    }
    let (date, end) = date_at(j)?;
    Some(Found {
        date,
        time: Some(time),
        zone,
        end,
    })
}

/// "2026-11-26", "2026/11/26", "2026.11.26".
fn numeric_ymd(toks: &[Tok<'_>], i: usize) -> Option<(NaiveDate, usize)> {
    let y = year(toks, i)?;
    let sep = punct(toks, i + 1).filter(|c| matches!(c, '-' | '/' | '.'))?;
    let m = num(toks, i + 2, 2)?;
    (punct(toks, i + 3) == Some(sep) && (i + 1..=i + 4).all(|k| glued(toks, k))).then_some(())?;
    let d = num(toks, i + 4, 2)?;
    Some((NaiveDate::from_ymd_opt(y, m, d)?, i + 5))
}

/// "11/12/2026" (US month/day; day/month only when that is the sole valid reading) and
/// "26.11.2026" (day.month.year, as German sites write it).
fn numeric_dmy(toks: &[Tok<'_>], i: usize) -> Option<(NaiveDate, usize)> {
    let a = num(toks, i, 2)?;
    let sep = punct(toks, i + 1).filter(|c| matches!(c, '/' | '.' | '-'))?;
    let b = num(toks, i + 2, 2)?;
    (punct(toks, i + 3) == Some(sep) && (i + 1..=i + 4).all(|k| glued(toks, k))).then_some(())?;
    let y = year(toks, i + 4)?;
    let date = if sep == '/' {
        NaiveDate::from_ymd_opt(y, a, b).or_else(|| NaiveDate::from_ymd_opt(y, b, a))
    } else if sep == '.' {
        NaiveDate::from_ymd_opt(y, b, a)
    } else {
        // "24-11-2026" (a year last cannot be ISO): only when one reading alone is a date,
        // since dashes are written day first and month first alike.
        match (
            NaiveDate::from_ymd_opt(y, b, a),
            NaiveDate::from_ymd_opt(y, a, b),
        ) {
            (Some(d), None) | (None, Some(d)) => Some(d),
            (Some(d), Some(_)) if a == b => Some(d),
            _ => None,
        }
    };
    Some((date?, i + 5))
}

/// "Nov. 26, 2026", "November 26th 2026", "Sept. 5, 2019".
fn month_first(toks: &[Tok<'_>], i: usize) -> Option<(NaiveDate, usize)> {
    let m = month_of(word(toks, i)?)?;
    let mut j = i + 1;
    if punct(toks, j) == Some('.') {
        j += 1;
    }
    let d = num(toks, j, 2)?;
    j += 1;
    if word(toks, j).is_some_and(is_ordinal_suffix) && glued(toks, j) {
        j += 1;
    }
    if matches!(punct(toks, j), Some(',' | '.')) {
        j += 1;
    }
    let y = year(toks, j)?;
    Some((NaiveDate::from_ymd_opt(y, m, d)?, j + 1))
}

/// "26 November 2026", "26th of November 2026", "26. März 2026", "1er mars 2026", "26 de noviembre de 2026",
/// "3 de marzo, 2026", "15 JAN 2020".
fn day_first(toks: &[Tok<'_>], i: usize) -> Option<(NaiveDate, usize)> {
    let d = num(toks, i, 2)?;
    let mut j = i + 1;
    // "24-Nov-2026", "24-NOV-2026": dashes glued on both sides of the month.
    if punct(toks, j) == Some('-')
        && glued(toks, j)
        && glued(toks, j + 1)
        && let Some(m) = word(toks, j + 1).and_then(month_of)
        && punct(toks, j + 2) == Some('-')
        && glued(toks, j + 2)
        && glued(toks, j + 3)
    {
        let y = year(toks, j + 3)?;
        return Some((NaiveDate::from_ymd_opt(y, m, d)?, j + 4));
    }
    if punct(toks, j) == Some('.') && glued(toks, j) {
        j += 1;
    }
    if word(toks, j).is_some_and(is_ordinal_suffix) && glued(toks, j) {
        j += 1;
    }
    if matches!(word(toks, j), Some("de" | "of")) {
        j += 1;
    }
    let m = month_of(word(toks, j)?)?;
    j += 1;
    if punct(toks, j) == Some('.') {
        j += 1;
    }
    if punct(toks, j) == Some(',') {
        j += 1;
    }
    if word(toks, j) == Some("de") {
        j += 1;
    }
    let y = year(toks, j)?;
    Some((NaiveDate::from_ymd_opt(y, m, d)?, j + 1))
}

/// A time of day right after a date: "10:30 AM", ", 10:00 GMT", "T10:00:00.5Z", "um 14:05 Uhr",
/// "14h05", "5 p.m.". Needs a colon or am/pm, so "Nov 26, 2026 · 4 min read" has no time.
fn time_after(toks: &[Tok<'_>], start: usize) -> Option<(NaiveTime, Option<Zone>, usize)> {
    let mut k = start;
    while k < start + 3
        && (matches!(punct(toks, k), Some(',' | '·' | '@' | '-' | '–' | '—'))
            || matches!(word(toks, k), Some("at" | "um" | "à" | "a" | "las" | "t")))
    {
        k += 1;
    }
    clock_at(toks, k)
}

/// A time of day starting exactly at token `k`, with its zone if one follows.
fn clock_at(toks: &[Tok<'_>], mut k: usize) -> Option<(NaiveTime, Option<Zone>, usize)> {
    let mut h = num(toks, k, 2)?;
    k += 1;
    let (mut min, mut sec, mut nano) = (0, 0, 0);
    let mut clock = false;
    let colon_num = |k: usize| {
        (punct(toks, k) == Some(':') && glued(toks, k) && glued(toks, k + 1))
            .then(|| match toks.get(k + 1)?.t {
                T::Num(v, 2) => Some(v),
                _ => None,
            })
            .flatten()
    };
    if let Some(m) = colon_num(k) {
        min = m;
        clock = true;
        k += 2;
        if let Some(s) = colon_num(k) {
            sec = s;
            k += 2;
            if matches!(punct(toks, k), Some('.' | ','))
                && glued(toks, k + 1)
                && let Some(T::Num(v, d)) = toks.get(k + 1).map(|t| t.t)
            {
                // Digits beyond nanoseconds are dropped rather than rejected.
                nano = if d <= 9 {
                    v * 10u32.pow(9 - u32::from(d))
                } else {
                    0
                };
                k += 2;
            }
        }
    } else if word(toks, k) == Some("h")
        && glued(toks, k)
        && glued(toks, k + 1)
        && let Some(T::Num(m, 2)) = toks.get(k + 1).map(|t| t.t)
    {
        min = m;
        clock = true;
        k += 2;
    }
    let pm = match (word(toks, k), punct(toks, k + 1), word(toks, k + 2)) {
        (Some("am"), ..) => {
            k += 1;
            Some(false)
        }
        (Some("pm"), ..) => {
            k += 1;
            Some(true)
        }
        (Some(ap @ ("a" | "p")), Some('.'), Some("m")) => {
            k += 3;
            if punct(toks, k) == Some('.') {
                k += 1;
            }
            Some(ap == "p")
        }
        _ => None,
    };
    match pm {
        Some(pm) if (1..=12).contains(&h) => h = h % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None if !clock => return None,
        None => {}
    }
    let time = NaiveTime::from_hms_nano_opt(h, min, sec, nano)?;
    if matches!(word(toks, k), Some("uhr")) {
        k += 1;
    }
    match zone_at(toks, k) {
        Some((zone, end)) => Some((time, Some(zone), end)),
        None => Some((time, None, k)),
    }
}

fn zone_at(toks: &[Tok<'_>], k: usize) -> Option<(Zone, usize)> {
    let hours = |h: i32| FixedOffset::east_opt(h * 3600).map(Zone::Fixed);
    let named = |tz: Tz| Some(Zone::Named(tz));
    if let Some(w) = word(toks, k) {
        let zone = match w {
            "z" | "gmt" | "utc" | "ut" => {
                // "GMT+1", "UTC-05:00"
                return Some(
                    offset_at(toks, k + 1)
                        .unwrap_or((Zone::Fixed(FixedOffset::east_opt(0)?), k + 1)),
                );
            }
            "est" => hours(-5),
            "edt" => hours(-4),
            "cst" => hours(-6),
            "cdt" => hours(-5),
            "mst" => hours(-7),
            "mdt" => hours(-6),
            "pst" => hours(-8),
            "pdt" => hours(-7),
            "wet" => hours(0),
            "bst" | "west" | "cet" | "mez" => hours(1),
            "cest" | "mesz" | "eet" => hours(2),
            "eest" => hours(3),
            "et" => named(Tz::America__New_York),
            "ct" => named(Tz::America__Chicago),
            "mt" => named(Tz::America__Denver),
            "pt" => named(Tz::America__Los_Angeles),
            _ => None,
        }?;
        return Some((zone, k + 1));
    }
    offset_at(toks, k)
}

/// "+0100", "-05:00", "+01", with the digits glued to the sign.
fn offset_at(toks: &[Tok<'_>], k: usize) -> Option<(Zone, usize)> {
    let sign = match punct(toks, k)? {
        '+' => 1,
        '-' | '−' => -1,
        _ => return None,
    };
    if !glued(toks, k + 1) {
        return None;
    }
    let (h, m, end) = match toks.get(k + 1)?.t {
        T::Num(v, 4) => (v / 100, v % 100, k + 2),
        T::Num(v, 1 | 2) => match (punct(toks, k + 2), toks.get(k + 3).map(|t| t.t)) {
            (Some(':'), Some(T::Num(m, 2))) if glued(toks, k + 3) => (v, m, k + 4),
            _ => (v, 0, k + 2),
        },
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    let secs = i32::try_from(h * 3600 + m * 60).ok()? * sign;
    Some((Zone::Fixed(FixedOffset::east_opt(secs)?), end))
}

/// Length of a relative-phrase unit in seconds. Months and years are approximate (30 and 365
/// days): close enough for "2 months ago", and the result is frozen at first sight anyway.
fn unit_secs(w: &str) -> Option<i64> {
    Some(match w {
        "s" | "sec" | "secs" | "second" | "seconds" | "sek" | "sekunde" | "sekunden"
        | "seconde" | "secondes" | "segundo" | "segundos" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" | "minuten" | "minuto" | "minutos" | "mn" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" | "std" | "stunde" | "stunden" | "heure"
        | "heures" | "hora" | "horas" => 3_600,
        "d" | "day" | "days" | "tag" | "tage" | "tagen" | "jour" | "jours" | "día" | "días"
        | "dia" | "dias" => 86_400,
        "w" | "wk" | "wks" | "week" | "weeks" | "woche" | "wochen" | "semaine" | "semaines"
        | "semana" | "semanas" => 7 * 86_400,
        "mo" | "mos" | "month" | "months" | "monat" | "monate" | "monaten" | "mois" | "mes"
        | "meses" => 30 * 86_400,
        "y" | "yr" | "yrs" | "year" | "years" | "jahr" | "jahre" | "jahren" | "ans" | "an"
        | "année" | "années" | "año" | "años" => 365 * 86_400,
        _ => return None,
    })
}

/// "3", or a word meaning one ("an hour ago", "vor einer Stunde", "il y a une heure").
fn amount(toks: &[Tok<'_>], i: usize) -> Option<i64> {
    match toks.get(i)?.t {
        T::Num(v, _) => Some(i64::from(v)),
        T::Word(
            "a" | "an" | "one" | "ein" | "eine" | "einer" | "einem" | "einen" | "eins" | "un"
            | "une" | "una" | "uno",
        ) => Some(1),
        _ => None,
    }
}

fn unit_at(toks: &[Tok<'_>], i: usize) -> Option<i64> {
    unit_secs(word(toks, i)?)
}

/// Words that may introduce "today"/"yesterday"/"just now" ("Updated yesterday").
fn is_date_label(w: &str) -> bool {
    matches!(
        w,
        "updated"
            | "published"
            | "posted"
            | "modified"
            | "edited"
            | "aktualisiert"
            | "veröffentlicht"
            | "publié"
            | "publiée"
            | "jour"
            | "publicado"
            | "actualizado"
    )
}

/// Matches a phrase of words at `i`, skipping apostrophes ("aujourd'hui", "à l'instant").
fn phrase_at(toks: &[Tok<'_>], i: usize, words: &[&str]) -> Option<usize> {
    let mut k = i;
    for w in words {
        while matches!(punct(toks, k), Some('\'' | '’')) && k > i {
            k += 1;
        }
        if word(toks, k)? != *w {
            return None;
        }
        k += 1;
    }
    Some(k)
}

fn relative_at(toks: &[Tok<'_>], i: usize, ctx: &DateContext) -> Option<DateTime<Utc>> {
    let ago = |n: i64, unit: i64| {
        ctx.now
            .checked_sub_signed(TimeDelta::try_seconds(n.checked_mul(unit)?)?)
    };
    // "3 hours ago", "an hour ago", "3h ago"
    if let (Some(n), Some(unit), Some("ago")) =
        (amount(toks, i), unit_at(toks, i + 1), word(toks, i + 2))
    {
        return ago(n, unit);
    }
    // "vor 2 Stunden", "hace 2 días", "il y a 3 heures"
    let after_lead = match word(toks, i) {
        Some("vor" | "hace") => Some(i + 1),
        Some("il") => phrase_at(toks, i, &["il", "y", "a"]),
        _ => None,
    };
    if let Some(j) = after_lead
        && let (Some(n), Some(unit)) = (amount(toks, j), unit_at(toks, j + 1))
    {
        return ago(n, unit);
    }
    // "7h", "3d": only as the whole text, since inside a line they could be anything.
    if i == 0
        && toks.len() == 2
        && glued(toks, 1)
        && let (
            Some(T::Num(n, _)),
            Some(w @ ("s" | "m" | "min" | "h" | "hr" | "d" | "w" | "mo" | "y")),
        ) = (toks.first().map(|t| t.t), word(toks, 1))
    {
        return ago(i64::from(n), unit_secs(w)?);
    }
    day_word_at(toks, i, ctx)
}

/// "just now", "today", "yesterday" and their German, French and Spanish forms, only at the
/// start or after a label, so "USA Today" is no date.
fn day_word_at(toks: &[Tok<'_>], i: usize, ctx: &DateContext) -> Option<DateTime<Utc>> {
    let starts_phrase =
        i == 0 || punct(toks, i - 1).is_some() || word(toks, i - 1).is_some_and(is_date_label);
    if !starts_phrase {
        return None;
    }
    const NOW: &[&[&str]] = &[
        &["just", "now"],
        &["now"],
        &["moments", "ago"],
        &["a", "moment", "ago"],
        &["gerade", "eben"],
        &["soeben"],
        &["à", "l", "instant"],
        &["ahora", "mismo"],
        &["hace", "un", "momento"],
    ];
    const TODAY: &[&[&str]] = &[&["today"], &["heute"], &["aujourd", "hui"], &["hoy"]];
    const YESTERDAY: &[&[&str]] = &[&["yesterday"], &["gestern"], &["hier"], &["ayer"]];
    let ends_phrase = |k: usize| match toks.get(k).map(|t| t.t) {
        None => true,
        Some(T::P(c)) => c != '\'' && c != '’',
        _ => false,
    };
    if NOW
        .iter()
        .any(|p| phrase_at(toks, i, p).is_some_and(ends_phrase))
    {
        return Some(ctx.now);
    }
    for (phrases, days_back) in [(TODAY, 0), (YESTERDAY, 1)] {
        let Some(end) = phrases.iter().find_map(|p| phrase_at(toks, i, p)) else {
            continue;
        };
        if let Some((time, zone, _)) = time_after(toks, end) {
            let date = ctx
                .now
                .with_timezone(&ctx.tz)
                .date_naive()
                .checked_sub_days(Days::new(days_back))?;
            let found = Found {
                date,
                time: Some(time),
                zone,
                end,
            };
            return found.to_utc(ctx.tz);
        }
        if ends_phrase(end) {
            return ctx
                .now
                .checked_sub_signed(TimeDelta::try_days(i64::try_from(days_back).ok()?)?);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz::{America__New_York as NY, Europe__Berlin as BERLIN, UTC};

    const NOW: &str = "2026-11-26T12:00:00Z";

    fn ctx(tz: Tz, format: Option<&str>) -> DateContext<'_> {
        DateContext {
            format,
            tz,
            now: DateTime::parse_from_rfc3339(NOW)
                .expect("valid test anchor")
                .to_utc(),
        }
    }

    fn run(rows: &[(&str, Tz, Option<&str>)], kind: DateKind) {
        for (input, tz, want) in rows {
            let got = parse_date(input, &ctx(*tz, None));
            let want = want.map(|w| {
                (
                    DateTime::parse_from_rfc3339(w)
                        .expect("valid expected date")
                        .to_utc(),
                    kind,
                )
            });
            assert_eq!(got, want, "input {input:?} in {tz}");
        }
    }

    #[test]
    fn dates_without_a_year_are_the_latest_such_day_up_to_tomorrow() {
        // NOW is Thursday 2026-11-26 12:00 UTC.
        run(
            &[
                ("Nov 26", UTC, Some("2026-11-26T00:00:00Z")),
                ("Nov. 24", UTC, Some("2026-11-24T00:00:00Z")),
                ("November 27", UTC, Some("2026-11-27T00:00:00Z")),
                ("Nov 28", UTC, Some("2025-11-28T00:00:00Z")),
                ("Dec 24", UTC, Some("2025-12-24T00:00:00Z")),
                ("Jan 3", UTC, Some("2026-01-03T00:00:00Z")),
                ("26. November", BERLIN, Some("2026-11-25T23:00:00Z")),
                ("3 de noviembre", UTC, Some("2026-11-03T00:00:00Z")),
                ("Tue, Nov 24 10:30 AM", NY, Some("2026-11-24T15:30:00Z")),
                ("Nov 26th", UTC, Some("2026-11-26T00:00:00Z")),
                // Within the year before the fetch only.
                ("Feb 29", UTC, None),
                // Only a date that is the whole text: a year-less day inside words is not one.
                ("Nov 26 launch window", UTC, None),
                ("Top 10 of Nov", UTC, None),
                ("Nov 32", UTC, None),
            ],
            DateKind::Relative,
        );
    }

    #[test]
    fn dates_from_urls() {
        let ctx = DateContext {
            format: None,
            tz: Tz::Europe__Berlin,
            now: Utc
                .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
                .single()
                .expect("valid"),
        };
        let rows: &[(&str, Option<&str>)] = &[
            (
                "https://x.org/2018/03/16/some-slug/",
                Some("2018-03-15T23:00:00+00:00"),
            ),
            (
                "https://x.org/news/2026/11/24/slug",
                Some("2026-11-23T23:00:00+00:00"),
            ),
            (
                "https://x.org/science/2026/nov/24/slug",
                Some("2026-11-23T23:00:00+00:00"),
            ),
            (
                "https://x.org/2026-11-24-slug",
                Some("2026-11-23T23:00:00+00:00"),
            ),
            (
                "https://x.org/blog/2026-11-24/",
                Some("2026-11-23T23:00:00+00:00"),
            ),
            (
                "https://x.org/hidden-heroines-of-chaos-20190520/",
                Some("2019-05-19T22:00:00+00:00"),
            ),
            (
                "https://x.org/a/slug_20190520.html",
                Some("2019-05-19T22:00:00+00:00"),
            ),
            // Month precision, ids, impossible and future dates.
            ("https://x.org/2018/03/some-slug/", None),
            ("https://x.org/releases/2026/11/261126100000.htm", None),
            ("https://x.org/news/science-environment-67001371", None),
            ("https://x.org/2026/02/30/slug", None),
            ("https://x.org/1989/01/02/slug", None),
            ("https://x.org/2026/12/24/slug", None),
            ("https://x.org/12345678", None),
            ("https://x.org/story/2026-11-24x", None),
        ];
        for (u, want) in rows {
            let url = url::Url::parse(u).expect("url");
            assert_eq!(
                date_from_url(&url, &ctx).map(|d| d.to_rfc3339()).as_deref(),
                *want,
                "{u}"
            );
        }
    }

    #[test]
    fn absolute_table() {
        let rows: &[(&str, Tz, Option<&str>)] = &[
            // RFC 3339 and ISO forms
            ("2026-11-26T10:00:00Z", UTC, Some("2026-11-26T10:00:00Z")),
            (
                "2026-11-26T10:00:00.123Z",
                UTC,
                Some("2026-11-26T10:00:00.123Z"),
            ),
            (
                "2026-11-26T10:00:00+01:00",
                UTC,
                Some("2026-11-26T09:00:00Z"),
            ),
            (
                "2026-11-26T10:00:00-05:00",
                BERLIN,
                Some("2026-11-26T15:00:00Z"),
            ),
            ("2026-11-26T10:00:00", BERLIN, Some("2026-11-26T09:00:00Z")),
            ("2026-11-26 10:00", BERLIN, Some("2026-11-26T09:00:00Z")),
            ("2026-11-26 10:00:30", UTC, Some("2026-11-26T10:00:30Z")),
            ("2026-11-26", UTC, Some("2026-11-26T00:00:00Z")),
            ("2026-11-26", BERLIN, Some("2026-11-25T23:00:00Z")),
            ("2026-11-26", NY, Some("2026-11-26T05:00:00Z")),
            ("2026-06-01", BERLIN, Some("2026-05-31T22:00:00Z")),
            ("  2026-11-26\n", UTC, Some("2026-11-26T00:00:00Z")),
            ("2026/11/26", UTC, Some("2026-11-26T00:00:00Z")),
            ("2026.11.26", UTC, Some("2026-11-26T00:00:00Z")),
            ("2019-09-05", UTC, Some("2019-09-05T00:00:00Z")),
            // RFC 2822
            (
                "Thu, 26 Nov 2026 10:00:00 GMT",
                BERLIN,
                Some("2026-11-26T10:00:00Z"),
            ),
            (
                "Thu, 26 Nov 2026 10:00:00 +0000",
                NY,
                Some("2026-11-26T10:00:00Z"),
            ),
            (
                "Thu, 26 Nov 2026 10:00:00 EST",
                UTC,
                Some("2026-11-26T15:00:00Z"),
            ),
            (
                "Thu, 26 Nov 2026 10:00:00 +0100",
                UTC,
                Some("2026-11-26T09:00:00Z"),
            ),
            // wrong weekday: chrono rejects it, the text scan still finds the date
            (
                "Mon, 26 Nov 2026 10:00:00 GMT",
                UTC,
                Some("2026-11-26T10:00:00Z"),
            ),
            // English
            ("Nov. 26, 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("Nov 26, 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("November 26, 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("November 26 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("November 26th, 2026", UTC, Some("2026-11-26T00:00:00Z")),
            (
                "Thursday, November 26, 2026",
                UTC,
                Some("2026-11-26T00:00:00Z"),
            ),
            ("26 November 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("26 Nov 2026", BERLIN, Some("2026-11-25T23:00:00Z")),
            ("1st March 2026", UTC, Some("2026-03-01T00:00:00Z")),
            ("26th of November 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("Sept. 5, 2019", UTC, Some("2019-09-05T00:00:00Z")),
            ("Jan 17, 2020", UTC, Some("2020-01-17T00:00:00Z")),
            ("15 JAN 2020", UTC, Some("2020-01-15T00:00:00Z")),
            ("08 August 2019", UTC, Some("2019-08-08T00:00:00Z")),
            ("June 05, 2013", UTC, Some("2013-06-05T00:00:00Z")),
            ("Nov. 26, 2026 10:30 AM", UTC, Some("2026-11-26T10:30:00Z")),
            ("Nov. 26, 2026 10:30 PM", NY, Some("2026-11-27T03:30:00Z")),
            ("Nov. 26, 2026 12:00 AM", UTC, Some("2026-11-26T00:00:00Z")),
            (
                "Nov. 26, 2026 12:15 p.m.",
                UTC,
                Some("2026-11-26T12:15:00Z"),
            ),
            ("Nov 26, 2026 at 5 pm", UTC, Some("2026-11-26T17:00:00Z")),
            (
                "Nov 26, 2026 10:30am EST",
                UTC,
                Some("2026-11-26T15:30:00Z"),
            ),
            (
                "Nov 26, 2026 10:30 a.m. ET",
                UTC,
                Some("2026-11-26T15:30:00Z"),
            ),
            (
                "May 20, 2019 3:15 PM PDT",
                UTC,
                Some("2019-05-20T22:15:00Z"),
            ),
            (
                "26 November 2026 14:05",
                BERLIN,
                Some("2026-11-26T13:05:00Z"),
            ),
            (
                "26 November 2026 14:05 +0530",
                UTC,
                Some("2026-11-26T08:35:00Z"),
            ),
            (
                "26 November 2026 14:05 UTC+2",
                UTC,
                Some("2026-11-26T12:05:00Z"),
            ),
            ("10:30 AM, Nov. 26, 2026", NY, Some("2026-11-26T15:30:00Z")),
            (
                "14:05 Uhr, 26. November 2026",
                BERLIN,
                Some("2026-11-26T13:05:00Z"),
            ),
            (
                "10:00 GMT 26 November 2026",
                BERLIN,
                Some("2026-11-26T10:00:00Z"),
            ),
            (
                "Posted at 10:30 on Nov. 26, 2026",
                UTC,
                Some("2026-11-26T10:30:00Z"),
            ),
            // numeric with slashes and dots
            ("11/12/2026", UTC, Some("2026-11-12T00:00:00Z")),
            ("1/2/2026", UTC, Some("2026-01-02T00:00:00Z")),
            ("26/11/2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("26.11.2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("03.05.2026 14:30", BERLIN, Some("2026-05-03T12:30:00Z")),
            // German
            ("26. November 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("26. März 2026", UTC, Some("2026-03-26T00:00:00Z")),
            ("3. Mai 2026", BERLIN, Some("2026-05-02T22:00:00Z")),
            (
                "Donnerstag, 26. November 2026, 14:05 Uhr",
                BERLIN,
                Some("2026-11-26T13:05:00Z"),
            ),
            (
                "26. Nov. 2026 um 9:00 Uhr",
                UTC,
                Some("2026-11-26T09:00:00Z"),
            ),
            // French
            ("26 novembre 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("1er mars 2026", UTC, Some("2026-03-01T00:00:00Z")),
            ("3 février 2026", UTC, Some("2026-02-03T00:00:00Z")),
            ("le 15 août 2026 à 14h05", UTC, Some("2026-08-15T14:05:00Z")),
            ("jeudi 26 décembre 2024", UTC, Some("2024-12-26T00:00:00Z")),
            // Spanish
            ("26 de noviembre de 2026", UTC, Some("2026-11-26T00:00:00Z")),
            ("3 de marzo, 2026", UTC, Some("2026-03-03T00:00:00Z")),
            (
                "1 de enero de 2026 a las 10:00",
                UTC,
                Some("2026-01-01T10:00:00Z"),
            ),
            // embedded in a longer line
            (
                "Published: Nov. 26, 2026 | 4 min read",
                UTC,
                Some("2026-11-26T00:00:00Z"),
            ),
            (
                "Updated 26 November 2026, 10:00 GMT",
                BERLIN,
                Some("2026-11-26T10:00:00Z"),
            ),
            (
                "Nov. 26, 2026 · 4 min read",
                UTC,
                Some("2026-11-26T00:00:00Z"),
            ),
            (
                "Posted on 2026-11-26T10:00:00Z by admin",
                UTC,
                Some("2026-11-26T10:00:00Z"),
            ),
            (
                "Feb 30, 2026 or rather Mar 2, 2026",
                UTC,
                Some("2026-03-02T00:00:00Z"),
            ),
            (
                "Updated 3 hours ago, first published Nov 20, 2026",
                UTC,
                Some("2026-11-20T00:00:00Z"),
            ),
            // year bounds
            ("Jan 1, 1990", UTC, Some("1990-01-01T00:00:00Z")),
            ("Dec 31, 2027", UTC, Some("2027-12-31T00:00:00Z")),
            // negatives
            ("", UTC, None),
            ("   ", UTC, None),
            ("2026", UTC, None),
            ("Nov 2026", UTC, None),
            ("November", UTC, None),
            ("10:30", UTC, None),
            ("10:30 AM, 4 min read", UTC, None),
            ("15 Mar — 17 Mar", UTC, None),
            ("3 comments", UTC, None),
            ("4 min read", UTC, None),
            ("4 minutes", UTC, None),
            ("Andy Carstens", UTC, None),
            ("Feb 30, 2026", UTC, None),
            ("2026-02-30", UTC, None),
            ("2026-13-01", UTC, None),
            ("31 April 2026", UTC, None),
            ("13/13/2026", UTC, None),
            ("11-12-2026", UTC, None),
            ("24-11-2026", UTC, Some("2026-11-24T00:00:00+00:00")),
            ("11-24-2026", UTC, Some("2026-11-24T00:00:00+00:00")),
            ("24-Nov-2026", UTC, Some("2026-11-24T00:00:00+00:00")),
            ("05-MAR-2018", UTC, Some("2018-03-05T00:00:00+00:00")),
            ("15 JAN 20", UTC, None),
            ("11/12/26", UTC, None),
            ("Dec 31, 1989", UTC, None),
            ("1970-01-01T00:00:00Z", UTC, None),
            ("31 Dec 2099", UTC, None),
            ("Jan 1, 2028", UTC, None),
            ("Nov. 26, 2026 25:00", UTC, Some("2026-11-26T00:00:00Z")),
            ("garbage", UTC, None),
            ("now and then", UTC, None),
        ];
        run(rows, DateKind::Absolute);
    }

    #[test]
    fn relative_table() {
        let rows: &[(&str, Tz, Option<&str>)] = &[
            ("just now", UTC, Some("2026-11-26T12:00:00Z")),
            ("Just now", BERLIN, Some("2026-11-26T12:00:00Z")),
            ("a moment ago", UTC, Some("2026-11-26T12:00:00Z")),
            ("today", UTC, Some("2026-11-26T12:00:00Z")),
            ("Today", BERLIN, Some("2026-11-26T12:00:00Z")),
            ("Updated today", UTC, Some("2026-11-26T12:00:00Z")),
            ("yesterday", UTC, Some("2026-11-25T12:00:00Z")),
            ("Yesterday at 5:00 PM", UTC, Some("2026-11-25T17:00:00Z")),
            ("Yesterday, 17:00", BERLIN, Some("2026-11-25T16:00:00Z")),
            ("Today 09:30", NY, Some("2026-11-26T14:30:00Z")),
            ("heute", UTC, Some("2026-11-26T12:00:00Z")),
            ("gestern", UTC, Some("2026-11-25T12:00:00Z")),
            ("aujourd'hui", UTC, Some("2026-11-26T12:00:00Z")),
            ("hier", UTC, Some("2026-11-25T12:00:00Z")),
            ("ayer", UTC, Some("2026-11-25T12:00:00Z")),
            ("3 hours ago", UTC, Some("2026-11-26T09:00:00Z")),
            ("3 hrs ago", UTC, Some("2026-11-26T09:00:00Z")),
            ("3h ago", UTC, Some("2026-11-26T09:00:00Z")),
            ("an hour ago", UTC, Some("2026-11-26T11:00:00Z")),
            ("a day ago", UTC, Some("2026-11-25T12:00:00Z")),
            ("5 min ago", UTC, Some("2026-11-26T11:55:00Z")),
            ("4 minutes ago", UTC, Some("2026-11-26T11:56:00Z")),
            ("30 seconds ago", UTC, Some("2026-11-26T11:59:30Z")),
            ("2 days ago", UTC, Some("2026-11-24T12:00:00Z")),
            ("1 week ago", UTC, Some("2026-11-19T12:00:00Z")),
            ("2 months ago", UTC, Some("2026-09-27T12:00:00Z")),
            (
                "Posted 3 hours ago | 4 min read",
                UTC,
                Some("2026-11-26T09:00:00Z"),
            ),
            ("7h", UTC, Some("2026-11-26T05:00:00Z")),
            ("3d", UTC, Some("2026-11-23T12:00:00Z")),
            ("45m", UTC, Some("2026-11-26T11:15:00Z")),
            ("vor 2 Stunden", UTC, Some("2026-11-26T10:00:00Z")),
            ("vor einer Stunde", UTC, Some("2026-11-26T11:00:00Z")),
            ("vor 3 Tagen", UTC, Some("2026-11-23T12:00:00Z")),
            ("vor 5 Min.", UTC, Some("2026-11-26T11:55:00Z")),
            ("il y a 3 heures", UTC, Some("2026-11-26T09:00:00Z")),
            ("il y a une heure", UTC, Some("2026-11-26T11:00:00Z")),
            ("Il y a 2 jours", UTC, Some("2026-11-24T12:00:00Z")),
            ("hace 2 días", UTC, Some("2026-11-24T12:00:00Z")),
            ("hace una hora", UTC, Some("2026-11-26T11:00:00Z")),
            ("Hace 10 minutos", UTC, Some("2026-11-26T11:50:00Z")),
            // negatives
            ("in 3 hours", UTC, None),
            ("3 hours", UTC, None),
            ("3 comments", UTC, None),
            ("USA Today", UTC, None),
            ("today's picks", UTC, None),
            ("7h of sleep", UTC, None),
            ("ago", UTC, None),
            ("40 years ago", UTC, None),
            ("99999999999 days ago", UTC, None),
        ];
        run(rows, DateKind::Relative);
    }

    #[test]
    fn dst_table() {
        let rows: &[(&str, Tz, Option<&str>)] = &[
            // Berlin springs forward 2026-03-29 02:00 -> 03:00: the gap resolves to 03:00 CEST.
            ("2026-03-29 02:30", BERLIN, Some("2026-03-29T01:00:00Z")),
            ("2026-03-29 02:00", BERLIN, Some("2026-03-29T01:00:00Z")),
            ("2026-03-29 02:59:59", BERLIN, Some("2026-03-29T01:00:00Z")),
            ("2026-03-29 01:59", BERLIN, Some("2026-03-29T00:59:00Z")),
            ("2026-03-29 03:00", BERLIN, Some("2026-03-29T01:00:00Z")),
            // Berlin falls back 2026-10-25 03:00 -> 02:00: 02:30 happens twice, take CEST.
            ("2026-10-25 02:30", BERLIN, Some("2026-10-25T00:30:00Z")),
            (
                "25. Oktober 2026 02:30",
                BERLIN,
                Some("2026-10-25T00:30:00Z"),
            ),
            ("2026-10-25 03:00", BERLIN, Some("2026-10-25T02:00:00Z")),
            // New York springs forward 2026-03-08 02:00 -> 03:00.
            ("2026-03-08 02:30", NY, Some("2026-03-08T07:00:00Z")),
            ("March 8, 2026 2:15 AM", NY, Some("2026-03-08T07:00:00Z")),
            // New York falls back 2026-11-01 02:00 -> 01:00: 01:30 happens twice, take EDT.
            ("2026-11-01 01:30", NY, Some("2026-11-01T05:30:00Z")),
            ("Nov 1, 2026 1:30 AM", NY, Some("2026-11-01T05:30:00Z")),
            // Brazil 2018 sprang forward at midnight: a date-only value starts at 01:00.
            (
                "2018-11-04",
                Tz::America__Sao_Paulo,
                Some("2018-11-04T03:00:00Z"),
            ),
        ];
        run(rows, DateKind::Absolute);
    }

    #[test]
    fn configured_format_table() {
        let rows: &[(&str, &str, Tz, Option<&str>)] = &[
            ("26/11/2026", "%d/%m/%Y", UTC, Some("2026-11-26T00:00:00Z")),
            ("11/12/2026", "%d/%m/%Y", UTC, Some("2026-12-11T00:00:00Z")),
            (
                "26.11.2026 14:05",
                "%d.%m.%Y %H:%M",
                BERLIN,
                Some("2026-11-26T13:05:00Z"),
            ),
            (
                "2026-11-26 14:05 +0100",
                "%Y-%m-%d %H:%M %z",
                NY,
                Some("2026-11-26T13:05:00Z"),
            ),
            ("20261126", "%Y%m%d", UTC, Some("2026-11-26T00:00:00Z")),
            (
                "2026-03-29 02:30",
                "%Y-%m-%d %H:%M",
                BERLIN,
                Some("2026-03-29T01:00:00Z"),
            ),
            // a format that does not fit falls through to the built-in rules
            (
                "Nov. 26, 2026",
                "%d/%m/%Y",
                UTC,
                Some("2026-11-26T00:00:00Z"),
            ),
            ("20261126", "%d/%m/%Y", UTC, None),
            ("30/02/2026", "%d/%m/%Y", UTC, None),
            ("26/11/1985", "%d/%m/%Y", UTC, None),
        ];
        for (input, format, tz, want) in rows {
            let got = parse_date(input, &ctx(*tz, Some(format)));
            let want = want.map(|w| {
                (
                    DateTime::parse_from_rfc3339(w)
                        .expect("valid expected date")
                        .to_utc(),
                    DateKind::Absolute,
                )
            });
            assert_eq!(got, want, "input {input:?} with {format:?}");
        }
    }

    #[test]
    fn parse_tz_table() {
        let rows: &[(&str, Result<Tz, &str>)] = &[
            ("Europe/Berlin", Ok(BERLIN)),
            ("America/New_York", Ok(NY)),
            ("UTC", Ok(UTC)),
            (" Europe/Berlin ", Ok(BERLIN)),
            ("europe/berlin", Err("did you mean \"Europe/Berlin\"")),
            ("Europe/Berln", Err("such as \"Europe/Berlin\"")),
            ("", Err("such as \"Europe/Berlin\"")),
            ("CEST", Err("such as \"Europe/Berlin\"")),
            ("+01:00", Err("such as \"Europe/Berlin\"")),
        ];
        for (input, want) in rows {
            match (parse_tz(input), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "input {input:?}"),
                (Err(got), Err(want)) => {
                    assert!(got.contains(want), "input {input:?}: {got}");
                    assert!(
                        got.contains(&format!("{input:?}")),
                        "input {input:?}: {got}"
                    );
                }
                (got, _) => panic!("input {input:?}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn helper_table() {
        let rows: &[(&str, bool, bool)] = &[
            // (input, looks_like_date, is_whole_date)
            ("Nov. 26, 2026", true, true),
            ("Thursday, November 26, 2026", true, true),
            ("26 November 2026.", true, true),
            ("3 hours ago", true, false),
            ("Published Nov. 26, 2026", true, false),
            ("Andy Carstens", false, false),
            ("USA Today", false, false),
            ("Staff Writer", false, false),
            ("May Smith", false, false),
        ];
        for (input, looks, whole) in rows {
            assert_eq!(looks_like_date(input), *looks, "looks_like_date {input:?}");
            assert_eq!(is_whole_date(input), *whole, "is_whole_date {input:?}");
        }
    }
}
