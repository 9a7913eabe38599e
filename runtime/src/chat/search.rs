//! Full-text search (reference §8, §21.14, plus operators): parse `q` into words, phrases,
//! prefixes, exclusions and operators; build a quoted FTS5 expression (so no input can be
//! an FTS syntax error); authorize the scope; page by an opaque cursor; cut a snippet with
//! code-point highlights.
//!
//! Grammar (whitespace separated; operator names are case-insensitive):
//! - `word` — a plain word (FTS5 porter stemming, case- and diacritic-folding);
//! - `"exact phrase"` — a phrase (an unclosed quote runs to the end of `q`);
//! - `prefix*` or `"a phrase"*` — the last word is a prefix (at least two letters; the
//!   index holds Porter stems, so a prefix longer than a word's stem — `runn*` for
//!   "running", stem `run` — misses that word);
//! - `-word`, `-"phrase"`, `-prefix*` — must not occur (a query of only exclusions and
//!   filters lists the other messages, newest first);
//! - `from:@handle` / `from:handle` — author by handle (several: any of them);
//! - `in:#channel` / `in:channel` — channel by name in the workspace (several: any of them);
//! - `has:file`, `has:link`, `has:reaction` — attachments, an http(s) link, any reaction;
//! - `before:YYYY-MM-DD`, `after:YYYY-MM-DD`, `on:YYYY-MM-DD` — UTC days on `created_at`
//!   (`before` excludes the day, `after` starts the day after).
//!
//! Anything else — an unknown operator, an invalid date or `has:` value, stray quotes,
//! parentheses, `AND`/`OR`/`NOT`/`NEAR` — is plain words.
//!
//! Several terms must all match. `sort=relevance` ranks by bm25 (then newest, then id);
//! a query matching more than [`MATCH_WINDOW`] messages ranks the newest that many after
//! the cursor, which bounds the work for very common words.

use super::{access, Actor, Chat};
use crate::model::User;
use crate::store::search::{self, SearchHit, SearchKey, SearchOrder, SearchScope, SearchSpec};
use crate::store::{channels, users};
use crate::{ids, Error, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest `q` in Unicode code points.
pub const MAX_QUERY_CHARS: usize = 500;
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;
/// Tokens in a snippet, and how many of them come before the first hit.
const SNIPPET_TOKENS: usize = 24;
const SNIPPET_LEAD: usize = 6;
/// Longest snippet in code points (long tokens), ellipses excluded.
const SNIPPET_MAX_CHARS: usize = 280;
const ELLIPSIS: char = '…';
/// Most matching messages ranked per query: a word that matches more ranks the newest
/// this many (after the cursor), which bounds the cost of very common words.
pub const MATCH_WINDOW: i64 = 2_000;

/// `GET /api/search` parameters as given by the client.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub workspace_id: String,
    pub q: String,
    pub channel_id: Option<String>,
    pub direct_conversation_id: Option<String>,
    /// `relevance` (default) or `newest`.
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One page of results; `next_cursor` is `null` on the last page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    pub next_cursor: Option<String>,
}

/// A matched part of a snippet: code points `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Highlight {
    pub start: usize,
    pub end: usize,
}

/// One search hit (reference §21.14): message coordinates, author, thread summary and a
/// snippet instead of the body.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub id: String,
    pub workspace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_conversation_id: Option<String>,
    pub author: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_message_id: Option<String>,
    pub thread_root_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_seq: Option<i64>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    pub reply_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reply_at: Option<String>,
    pub snippet: String,
    pub highlights: Vec<Highlight>,
}

impl SearchResult {
    fn from_hit(hit: SearchHit, terms: &[Term]) -> Self {
        let (snippet, highlights) = snippet(&hit.body, terms);
        SearchResult {
            id: hit.id,
            workspace_id: hit.workspace_id,
            channel_id: hit.channel_id,
            channel_name: hit.channel_name,
            direct_conversation_id: hit.direct_conversation_id,
            author: hit.author,
            parent_message_id: hit.parent_message_id,
            thread_root_id: hit.thread_root_id,
            channel_seq: hit.channel_seq,
            thread_seq: hit.thread_seq,
            created_at: hit.created_at,
            edited_at: hit.edited_at,
            reply_count: hit.reply_count,
            last_reply_at: hit.last_reply_at,
            snippet,
            highlights,
        }
    }
}

impl Chat {
    /// Searches the messages the caller may see in a workspace: channel messages (roots and
    /// replies), or one channel, or one DM conversation the caller belongs to.
    pub async fn search(&self, actor: &Actor, query: &SearchQuery) -> Result<SearchPage> {
        actor.require(super::scopes::MESSAGES_READ)?;
        let workspace_id = query.workspace_id.trim();
        if workspace_id.is_empty() {
            return Err(Error::invalid(
                "workspace_id_required",
                "workspace_id is required",
            ));
        }
        let channel_id = non_blank(&query.channel_id);
        let conversation_id = non_blank(&query.direct_conversation_id);
        if channel_id.is_some() && conversation_id.is_some() {
            return Err(Error::invalid(
                "invalid_search_scope",
                "use channel_id or direct_conversation_id, not both",
            ));
        }
        let order = match query.sort.as_deref().map(str::trim) {
            None | Some("") | Some("relevance") => SearchOrder::Relevance,
            Some("newest") => SearchOrder::Newest,
            Some(other) => {
                return Err(Error::invalid(
                    "invalid_sort",
                    format!("sort {other:?} is not relevance or newest"),
                ))
            }
        };
        let limit = match query.limit {
            None => DEFAULT_LIMIT,
            Some(l) if l <= 0 => {
                return Err(Error::invalid("invalid_limit", "limit must be positive"))
            }
            Some(l) => l.min(MAX_LIMIT),
        };
        if query.q.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::invalid(
                "query_too_long",
                format!("q is longer than {MAX_QUERY_CHARS} characters"),
            ));
        }

        actor.require_workspace(workspace_id)?;
        if conversation_id.is_some() {
            actor.require(super::scopes::DMS_READ)?;
        }
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        let scope = if let Some(id) = channel_id {
            let (channel, _) = access::visible_channel(&conn, id, actor.id()).await?;
            if channel.workspace_id != workspace_id {
                return Err(Error::not_found("channel"));
            }
            SearchScope::Channel(id.to_string())
        } else if let Some(id) = conversation_id {
            if access::visible_conversation(&conn, id, actor.id()).await? != workspace_id {
                return Err(Error::not_found("conversation"));
            }
            SearchScope::Direct(id.to_string())
        } else {
            SearchScope::Workspace
        };

        let q = query.q.trim();
        let binding = cursor_binding(actor.id(), workspace_id, &scope, q, order);
        let after = match non_blank(&query.cursor) {
            Some(cursor) => Some(decode_cursor(cursor, &binding)?),
            None => None,
        };
        let parsed = parse_query(q);
        if parsed.is_empty() {
            return Ok(SearchPage::default());
        }

        let authors = if parsed.from.is_empty() {
            None
        } else {
            let mut ids = Vec::new();
            for handle in &parsed.from {
                if let Some(user) = users::by_handle(&conn, handle).await? {
                    ids.push(user.id);
                }
            }
            if ids.is_empty() {
                return Ok(SearchPage::default());
            }
            Some(ids)
        };
        let in_channels = if parsed.channels.is_empty() {
            None
        } else {
            let mut ids = Vec::new();
            for name in &parsed.channels {
                if let Some(channel) = channels::by_name(&conn, workspace_id, name).await? {
                    ids.push(channel.id);
                }
            }
            if ids.is_empty() {
                return Ok(SearchPage::default());
            }
            Some(ids)
        };
        if let (Some(from), Some(before)) = (parsed.after, parsed.before) {
            if from >= before {
                return Ok(SearchPage::default());
            }
        }

        let spec = SearchSpec {
            workspace_id: workspace_id.to_string(),
            scope,
            match_expr: parsed.match_expr(),
            exclude_expr: parsed.exclude_expr(),
            contains: parsed.refinements(),
            authors,
            channels: in_channels,
            has_file: parsed.has_file,
            has_link: parsed.has_link,
            has_reaction: parsed.has_reaction,
            created_from: parsed.after.map(day),
            created_before: parsed.before.map(day),
            order,
            after,
            limit: limit + 1,
            window: MATCH_WINDOW,
        };
        let mut hits = search::run(&conn, &spec).await?;
        let next_cursor = if hits.len() as i64 > limit {
            hits.truncate(limit as usize);
            hits.last().map(|h| encode_cursor(&binding, &h.key()))
        } else {
            None
        };
        Ok(SearchPage {
            results: hits
                .into_iter()
                .map(|h| SearchResult::from_hit(h, &parsed.terms))
                .collect(),
            next_cursor,
        })
    }
}

fn non_blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------
// Query parsing
// ---------------------------------------------------------------------------------------

/// A word, phrase or prefix as the user typed it (without quotes, `-` or `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub phrase: bool,
    /// The last word matches as a prefix.
    pub prefix: bool,
}

/// One FTS5 string: `"text"` with `"` doubled (control characters, which FTS5 would
/// misread, become spaces), `*` for a prefix.
fn fts_string(text: &str, prefix: bool) -> String {
    let mut s = String::with_capacity(text.len() + 3);
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\"\""),
            c if c.is_control() => s.push(' '),
            c => s.push(c),
        }
    }
    s.push('"');
    if prefix {
        s.push('*');
    }
    s
}

impl Term {
    /// The term as an FTS5 expression. FTS5 stems a prefix too: `deploy*` looks for
    /// stems starting `deploi` and would miss `deployment` (stem `deploy`). When the
    /// stemmer changes the last word, the longest prefix of it that the stemmer keeps is
    /// searched as well (`deplo*`) and [`Term::refinement`] restores precision.
    fn fts(&self) -> String {
        if !self.prefix {
            return fts_string(&self.text, false);
        }
        let mut words = self.words();
        let exact = fts_string(&words.join(" "), true);
        match self.stable_prefix() {
            Some(stable) => {
                words.pop();
                words.push(stable);
                format!("({exact} OR {})", fts_string(&words.join(" "), true))
            }
            None => exact,
        }
    }

    /// The last word of a prefix when the Porter stemmer would change it (ASCII only).
    fn unstable_last(&self) -> Option<String> {
        if !self.prefix {
            return None;
        }
        let last = self.words().pop()?;
        (last.is_ascii() && porter(&last) != last).then_some(last)
    }

    /// The longest prefix of an unstable last word that the stemmer leaves alone, when it
    /// is not already what FTS5 searches for.
    fn stable_prefix(&self) -> Option<String> {
        let last = self.unstable_last()?;
        let stable = (2..last.len())
            .rev()
            .map(|n| &last[..n])
            .find(|p| porter(p) == *p)?;
        (stable != porter(&last)).then(|| stable.to_string())
    }

    /// Text a matching body must contain (ASCII, case-insensitive) when the searched
    /// prefix is not the typed one.
    fn refinement(&self) -> Option<String> {
        self.unstable_last()
    }

    /// The folded words of the term (empty when it has nothing searchable).
    fn words(&self) -> Vec<String> {
        tokenize(&self.text.chars().collect::<Vec<_>>())
            .into_iter()
            .map(|t| t.norm)
            .collect()
    }
}

/// `q` parsed: terms plus operator filters (names not yet resolved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub terms: Vec<Term>,
    pub excluded: Vec<Term>,
    /// Handles, lowercase, without `@`.
    pub from: Vec<String>,
    /// Channel names (slugs), without `#`.
    pub channels: Vec<String>,
    pub has_file: bool,
    pub has_link: bool,
    pub has_reaction: bool,
    /// First day included.
    pub after: Option<NaiveDate>,
    /// First day excluded.
    pub before: Option<NaiveDate>,
}

impl ParsedQuery {
    /// Nothing to search for: no terms and no filters.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.excluded.is_empty()
            && self.from.is_empty()
            && self.channels.is_empty()
            && !self.has_file
            && !self.has_link
            && !self.has_reaction
            && self.after.is_none()
            && self.before.is_none()
    }

    /// `(t1 AND t2) NOT (x1 OR x2)`; `None` without a positive term (FTS5 needs one).
    pub fn match_expr(&self) -> Option<String> {
        if self.terms.is_empty() {
            return None;
        }
        let positive = join(&self.terms, " AND ");
        Some(match self.exclude_expr() {
            Some(excluded) => format!("({positive}) NOT ({excluded})"),
            None => positive,
        })
    }

    /// Words a matching body must contain (see [`Term::refinement`]).
    pub fn refinements(&self) -> Vec<String> {
        self.terms.iter().filter_map(Term::refinement).collect()
    }

    /// `x1 OR x2` over the excluded terms.
    pub fn exclude_expr(&self) -> Option<String> {
        (!self.excluded.is_empty()).then(|| join(&self.excluded, " OR "))
    }

    fn push(&mut self, mut term: Term, excluded: bool) {
        let words = term.words();
        let Some(last) = words.last() else {
            return;
        };
        // A one-letter prefix would match nearly everything: search the letter.
        if last.chars().count() < 2 {
            term.prefix = false;
        }
        if excluded {
            self.excluded.push(term);
        } else {
            self.terms.push(term);
        }
    }

    fn word(&mut self, word: &str) {
        if let Some(rest) = word.strip_prefix('-') {
            self.push(bare(rest), true);
        } else if !self.operator(word) {
            self.push(bare(word), false);
        }
    }

    /// Applies `name:value` when it is a valid operator; false otherwise.
    fn operator(&mut self, word: &str) -> bool {
        let Some((name, value)) = word.split_once(':') else {
            return false;
        };
        match name.to_ascii_lowercase().as_str() {
            "from" => {
                let handle = value.strip_prefix('@').unwrap_or(value).to_lowercase();
                if handle.is_empty() {
                    return false;
                }
                self.from.push(handle);
            }
            "in" => {
                let name = ids::slug(value.strip_prefix('#').unwrap_or(value));
                if name.is_empty() {
                    return false;
                }
                self.channels.push(name);
            }
            "has" => match value.to_ascii_lowercase().as_str() {
                "file" | "files" | "attachment" | "attachments" => self.has_file = true,
                "link" | "links" => self.has_link = true,
                "reaction" | "reactions" => self.has_reaction = true,
                _ => return false,
            },
            op @ ("before" | "after" | "on") => {
                let Some(d) = parse_day(value) else {
                    return false;
                };
                let next = d.succ_opt().unwrap_or(d);
                let (from, until) = match op {
                    "before" => (None, Some(d)),
                    "after" => (Some(next), None),
                    _ => (Some(d), Some(next)),
                };
                if let Some(from) = from {
                    self.after = Some(self.after.map_or(from, |a| a.max(from)));
                }
                if let Some(until) = until {
                    self.before = Some(self.before.map_or(until, |b| b.min(until)));
                }
            }
            _ => return false,
        }
        true
    }
}

fn join(terms: &[Term], sep: &str) -> String {
    terms.iter().map(Term::fts).collect::<Vec<_>>().join(sep)
}

/// A bare word: trailing `*`s make it a prefix.
fn bare(word: &str) -> Term {
    let text = word.trim_end_matches('*');
    Term {
        text: text.to_string(),
        phrase: false,
        prefix: text.len() < word.len(),
    }
}

/// `YYYY-MM-DD` exactly.
fn parse_day(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// Parses a search string; never fails (what is not an operator is plain words).
pub fn parse_query(q: &str) -> ParsedQuery {
    let mut out = ParsedQuery::default();
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let negated_phrase = c == '-' && chars.get(i + 1) == Some(&'"');
        if c == '"' || negated_phrase {
            let start = i + if negated_phrase { 2 } else { 1 };
            let end = chars[start..]
                .iter()
                .position(|&c| c == '"')
                .map_or(chars.len(), |p| start + p);
            let text: String = chars[start..end].iter().collect();
            i = (end + 1).min(chars.len());
            let mut prefix = false;
            while chars.get(i) == Some(&'*') {
                prefix = true;
                i += 1;
            }
            let term = Term {
                text,
                phrase: true,
                prefix,
            };
            out.push(term, negated_phrase);
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        out.word(&word);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Cursor
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct CursorData {
    /// Binding: hash of user, workspace, scope, query and sort.
    b: String,
    /// The score's bits (exact round trip).
    s: u64,
    t: String,
    i: String,
}

fn cursor_binding(
    user_id: &str,
    workspace_id: &str,
    scope: &SearchScope,
    q: &str,
    order: SearchOrder,
) -> String {
    let scope = match scope {
        SearchScope::Workspace => "w:".to_string(),
        SearchScope::Channel(id) => format!("c:{id}"),
        SearchScope::Direct(id) => format!("d:{id}"),
    };
    let sort = match order {
        SearchOrder::Relevance => "relevance",
        SearchOrder::Newest => "newest",
    };
    let mut h = Sha256::new();
    for part in [user_id, workspace_id, &scope, q, sort] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..12])
}

fn encode_cursor(binding: &str, key: &SearchKey) -> String {
    let data = CursorData {
        b: binding.to_string(),
        s: key.score.to_bits(),
        t: key.created_at.clone(),
        i: key.id.clone(),
    };
    hex::encode(serde_json::to_vec(&data).unwrap_or_default())
}

fn decode_cursor(cursor: &str, binding: &str) -> Result<SearchKey> {
    let invalid = || {
        Error::invalid(
            "invalid_cursor",
            "cursor does not belong to this search; start again without it",
        )
    };
    let bytes = hex::decode(cursor).map_err(|_| invalid())?;
    let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if data.b != binding {
        return Err(invalid());
    }
    Ok(SearchKey {
        score: f64::from_bits(data.s),
        created_at: data.t,
        id: data.i,
    })
}

// ---------------------------------------------------------------------------------------
// Snippets and highlights
// ---------------------------------------------------------------------------------------

/// A word of a text: code-point range and folded form.
#[derive(Debug, Clone)]
struct Token {
    start: usize,
    end: usize,
    norm: String,
}

/// Words as FTS5 `unicode61` sees them, roughly: runs of letters and digits.
fn tokenize(chars: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_alphanumeric() {
            i += 1;
        }
        out.push(Token {
            start,
            end: i,
            norm: fold(&chars[start..i]),
        });
    }
    out
}

/// Lowercase without common Latin diacritics.
fn fold(chars: &[char]) -> String {
    let mut s = String::with_capacity(chars.len());
    for c in chars.iter().flat_map(|c| c.to_lowercase()) {
        s.push(match c {
            'à'..='å' => 'a',
            'ç' => 'c',
            'è'..='ë' => 'e',
            'ì'..='ï' => 'i',
            'ñ' => 'n',
            'ò'..='ö' | 'ø' => 'o',
            'ù'..='ü' => 'u',
            'ý' | 'ÿ' => 'y',
            c => c,
        });
    }
    s
}

// The Porter stemmer as FTS5's `porter` tokenizer applies it (to folded tokens of 3–64
// bytes), so highlights agree with what matched and prefixes can be made stem-safe.

fn is_vowel(c: u8, y_is_vowel: bool) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') || (y_is_vowel && c == b'y')
}

/// Skips one vowel run and the consonant after it; the index after that consonant, or 0.
fn gobble_vc(w: &[u8], prev_consonant: bool) -> usize {
    let mut consonant = prev_consonant;
    let mut i = 0;
    while i < w.len() {
        consonant = !is_vowel(w[i], consonant);
        if !consonant {
            break;
        }
        i += 1;
    }
    i += 1;
    while i < w.len() {
        consonant = !is_vowel(w[i], consonant);
        if consonant {
            return i + 1;
        }
        i += 1;
    }
    0
}

fn m_gt0(w: &[u8]) -> bool {
    gobble_vc(w, false) != 0
}

fn m_gt1(w: &[u8]) -> bool {
    let n = gobble_vc(w, false);
    n != 0 && gobble_vc(&w[n..], true) != 0
}

fn m_eq1(w: &[u8]) -> bool {
    let n = gobble_vc(w, false);
    n != 0 && gobble_vc(&w[n..], true) == 0
}

/// Ends consonant-vowel-consonant, the last not w, x or y.
fn cvc(w: &[u8]) -> bool {
    if w.is_empty() || matches!(w[w.len() - 1], b'w' | b'x' | b'y') {
        return false;
    }
    let mut mask = 0u32;
    let mut consonant = false;
    for &c in w {
        consonant = !is_vowel(c, consonant);
        mask = (mask << 1) | consonant as u32;
    }
    mask & 7 == 5
}

fn has_vowel(w: &[u8]) -> bool {
    w.iter().enumerate().any(|(i, &c)| is_vowel(c, i > 0))
}

#[derive(Clone, Copy)]
enum Cond {
    MGt0,
    MGt1,
    MGt1ST,
}

impl Cond {
    fn holds(self, stem: &[u8]) -> bool {
        match self {
            Cond::MGt0 => m_gt0(stem),
            Cond::MGt1 => m_gt1(stem),
            Cond::MGt1ST => matches!(stem.last(), Some(b's' | b't')) && m_gt1(stem),
        }
    }
}

const STEP2: &[(&str, &str)] = &[
    ("ational", "ate"),
    ("tional", "tion"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("izer", "ize"),
    ("logi", "log"),
    ("bli", "ble"),
    ("alli", "al"),
    ("entli", "ent"),
    ("eli", "e"),
    ("ousli", "ous"),
    ("ization", "ize"),
    ("ation", "ate"),
    ("ator", "ate"),
    ("alism", "al"),
    ("iveness", "ive"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("aliti", "al"),
    ("iviti", "ive"),
    ("biliti", "ble"),
];

const STEP3: &[(&str, &str)] = &[
    ("ical", "ic"),
    ("ness", ""),
    ("icate", "ic"),
    ("iciti", "ic"),
    ("ful", ""),
    ("ative", ""),
    ("alize", "al"),
];

const STEP4: &[&str] = &[
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou",
    "ism", "ate", "iti", "ous", "ive", "ize",
];

/// Replaces the first suffix of `rules` that `w` ends with (and is longer than) when
/// `cond` holds for the stem before it.
fn rewrite(w: &mut Vec<u8>, rules: &[(&str, &str)], cond: Cond) {
    let Some((suffix, to)) = rules
        .iter()
        .find(|(s, _)| w.len() > s.len() && w.ends_with(s.as_bytes()))
    else {
        return;
    };
    let stem = w.len() - suffix.len();
    if cond.holds(&w[..stem]) {
        w.truncate(stem);
        w.extend_from_slice(to.as_bytes());
    }
}

/// The Porter stem of a folded token (unchanged below 3 or above 64 bytes).
fn porter(word: &str) -> String {
    if word.len() < 3 || word.len() > 64 {
        return word.to_string();
    }
    let mut w = word.as_bytes().to_vec();
    // Step 1a.
    let n = w.len();
    if w[n - 1] == b's' {
        if w[n - 2] == b'e' {
            if (n > 4 && &w[n - 4..n - 2] == b"ss") || (n > 3 && w[n - 3] == b'i') {
                w.truncate(n - 2);
            } else {
                w.truncate(n - 1);
            }
        } else if w[n - 2] != b's' {
            w.truncate(n - 1);
        }
    }
    // Step 1b.
    let n = w.len();
    let mut cut = false;
    if n > 3 && w.ends_with(b"eed") {
        if m_gt0(&w[..n - 3]) {
            w.truncate(n - 1);
        }
    } else if n > 2 && w.ends_with(b"ed") && has_vowel(&w[..n - 2]) {
        w.truncate(n - 2);
        cut = true;
    } else if n > 3 && w.ends_with(b"ing") && has_vowel(&w[..n - 3]) {
        w.truncate(n - 3);
        cut = true;
    }
    if cut {
        let n = w.len();
        if n > 2 && (w.ends_with(b"at") || w.ends_with(b"bl") || w.ends_with(b"iz")) {
            w.push(b'e');
        } else if n >= 2 {
            let c = w[n - 1];
            if !is_vowel(c, false) && !matches!(c, b'l' | b's' | b'z') && c == w[n - 2] {
                w.pop();
            } else if m_eq1(&w) && cvc(&w) {
                w.push(b'e');
            }
        }
    }
    // Step 1c.
    let n = w.len();
    if n > 1 && w[n - 1] == b'y' && has_vowel(&w[..n - 1]) {
        w[n - 1] = b'i';
    }
    // Steps 2–4.
    rewrite(&mut w, STEP2, Cond::MGt0);
    rewrite(&mut w, STEP3, Cond::MGt0);
    if let Some(suffix) = STEP4
        .iter()
        .find(|s| w.len() > s.len() && w.ends_with(s.as_bytes()))
    {
        let stem = w.len() - suffix.len();
        let cond = if *suffix == "ion" {
            Cond::MGt1ST
        } else {
            Cond::MGt1
        };
        if cond.holds(&w[..stem]) {
            w.truncate(stem);
        }
    }
    // Step 5a.
    let n = w.len();
    if n > 1 && w[n - 1] == b'e' {
        let stem = &w[..n - 1];
        if m_gt1(stem) || (m_eq1(stem) && !cvc(stem)) {
            w.pop();
        }
    }
    // Step 5b.
    let n = w.len();
    if n > 1 && w[n - 1] == b'l' && w[n - 2] == b'l' && m_gt1(&w[..n - 1]) {
        w.pop();
    }
    String::from_utf8_lossy(&w).into_owned()
}

fn word_matches(token: &str, word: &str, prefix: bool) -> bool {
    if prefix {
        token.starts_with(word)
    } else {
        token == word || porter(token) == porter(word)
    }
}

/// A body window around the first hit (≈ 24 words, `…` where cut, whitespace collapsed)
/// and the code-point ranges of the terms inside it.
pub(crate) fn snippet(body: &str, terms: &[Term]) -> (String, Vec<Highlight>) {
    let chars: Vec<char> = body.chars().collect();
    let tokens = tokenize(&chars);
    let n = tokens.len();
    let patterns: Vec<(Vec<String>, bool)> = terms
        .iter()
        .map(|t| (t.words(), t.prefix))
        .filter(|(w, _)| !w.is_empty())
        .collect();
    let mut hits: Vec<(usize, usize)> = Vec::new();
    for i in 0..n {
        for (words, prefix) in &patterns {
            if i + words.len() > n {
                continue;
            }
            let last = words.len() - 1;
            let all = words
                .iter()
                .enumerate()
                .all(|(k, w)| word_matches(&tokens[i + k].norm, w, *prefix && k == last));
            if all {
                hits.push((tokens[i].start, tokens[i + last].end));
            }
        }
    }
    let first = hits.iter().map(|h| h.0).min();
    let first_token = first.map_or(0, |start| {
        tokens.iter().position(|t| t.start == start).unwrap_or(0)
    });
    let mut from_tok = first_token.saturating_sub(SNIPPET_LEAD);
    let to_tok = (from_tok + SNIPPET_TOKENS).min(n);
    if to_tok - from_tok < SNIPPET_TOKENS {
        from_tok = to_tok.saturating_sub(SNIPPET_TOKENS);
    }
    let mut from = if from_tok == 0 {
        0
    } else {
        tokens[from_tok].start
    };
    let mut to = if to_tok >= n {
        chars.len()
    } else {
        tokens[to_tok - 1].end
    };
    if let Some(hit) = first {
        if hit.saturating_sub(from) > SNIPPET_MAX_CHARS / 2 {
            from = hit;
        }
    }
    to = to.min(from + SNIPPET_MAX_CHARS);
    while from < to && chars[from].is_whitespace() {
        from += 1;
    }
    while to > from && chars[to - 1].is_whitespace() {
        to -= 1;
    }
    let lead = chars[..from].iter().any(|c| !c.is_whitespace());
    let tail = chars[to..].iter().any(|c| !c.is_whitespace());

    let mut out = String::with_capacity((to - from) * 2 + 8);
    let mut len = 0usize;
    if lead {
        out.push(ELLIPSIS);
        len += 1;
    }
    // Snippet position of each body code point in `from..to`.
    let mut at = Vec::with_capacity(to - from);
    let mut prev_space = false;
    for &c in &chars[from..to] {
        if c.is_whitespace() {
            if !prev_space {
                out.push(' ');
                len += 1;
            }
            prev_space = true;
            at.push(len - 1);
        } else {
            prev_space = false;
            at.push(len);
            out.push(c);
            len += 1;
        }
    }
    if tail {
        out.push(ELLIPSIS);
    }

    hits.sort_unstable();
    let mut highlights: Vec<Highlight> = Vec::new();
    for (start, end) in hits {
        let (start, end) = (start.max(from), end.min(to));
        if start >= end {
            continue;
        }
        let h = Highlight {
            start: at[start - from],
            end: at[end - 1 - from] + 1,
        };
        match highlights.last_mut() {
            Some(last) if h.start <= last.end => last.end = last.end.max(h.end),
            _ => highlights.push(h),
        }
    }
    (out, highlights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> Term {
        Term {
            text: text.into(),
            phrase: false,
            prefix: false,
        }
    }

    fn marked(snippet: &str, highlights: &[Highlight]) -> Vec<String> {
        let chars: Vec<char> = snippet.chars().collect();
        highlights
            .iter()
            .map(|h| chars[h.start..h.end].iter().collect())
            .collect()
    }

    #[test]
    fn parses_words_phrases_prefixes_exclusions_and_operators() {
        let p = parse_query(
            r#"deploy "exact phrase" lob* -noise -"bad idea" from:@Alice in:#General has:file has:link has:reaction"#,
        );
        assert_eq!(
            p.terms,
            vec![
                word("deploy"),
                Term {
                    text: "exact phrase".into(),
                    phrase: true,
                    prefix: false
                },
                Term {
                    text: "lob".into(),
                    phrase: false,
                    prefix: true
                },
            ]
        );
        assert_eq!(p.excluded.len(), 2);
        assert_eq!(p.excluded[1].text, "bad idea");
        assert_eq!(p.from, vec!["alice"]);
        assert_eq!(p.channels, vec!["general"]);
        assert!(p.has_file && p.has_link && p.has_reaction);
        assert_eq!(
            p.match_expr().unwrap(),
            r#"("deploy" AND "exact phrase" AND "lob"*) NOT ("noise" OR "bad idea")"#
        );
    }

    #[test]
    fn dates_narrow_a_window_and_invalid_ones_are_words() {
        let p = parse_query("after:2026-01-01 before:2026-02-01 on:2026-13-01 before:soon");
        assert_eq!(p.after, NaiveDate::from_ymd_opt(2026, 1, 2));
        assert_eq!(p.before, NaiveDate::from_ymd_opt(2026, 2, 1));
        assert_eq!(
            p.terms.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            vec!["on:2026-13-01", "before:soon"]
        );
        let on = parse_query("on:2026-03-04");
        assert_eq!(on.after, NaiveDate::from_ymd_opt(2026, 3, 4));
        assert_eq!(on.before, NaiveDate::from_ymd_opt(2026, 3, 5));
    }

    #[test]
    fn hostile_input_is_quoted_or_dropped() {
        let p = parse_query(r#"a"b NEAR(x y) AND * ( ) ^ : - "" 🎉 "unclosed"#);
        let expr = p.match_expr().unwrap();
        assert_eq!(
            expr,
            r#""a""b" AND "NEAR(x" AND "y)" AND "AND" AND "unclosed""#
        );
        assert!(parse_query("* ( ) - \"\" 🎉 -").is_empty());
        assert!(parse_query("   ").is_empty());
        let only_excluded = parse_query("-spam");
        assert_eq!(only_excluded.match_expr(), None);
        assert_eq!(only_excluded.exclude_expr().unwrap(), r#""spam""#);
    }

    #[test]
    fn porter_stems_like_fts5() {
        for (word, stem) in [
            ("lobsters", "lobster"),
            ("running", "run"),
            ("deployed", "deploi"),
            ("deploy", "deploi"),
            ("deployment", "deploy"),
            ("ponies", "poni"),
            ("hoping", "hope"),
            ("caresses", "caress"),
            ("agreed", "agre"),
            ("relational", "relat"),
            ("organization", "organ"),
            ("generalizations", "gener"),
            ("hopefulness", "hope"),
            ("controlling", "control"),
            ("an", "an"),
        ] {
            assert_eq!(porter(word), stem, "{word}");
        }
    }

    /// Our stemmer agrees with SQLite's on roots × suffixes (highlights and prefixes rely
    /// on it).
    #[tokio::test]
    async fn porter_agrees_with_sqlite() {
        let roots = [
            "deploy",
            "lobster",
            "run",
            "hop",
            "hope",
            "generalize",
            "relate",
            "condition",
            "agree",
            "feed",
            "sky",
            "happy",
            "fall",
            "control",
            "roll",
            "size",
            "fizz",
            "tree",
            "cry",
            "act",
            "sense",
            "electric",
            "form",
            "adopt",
            "depend",
            "commun",
            "caress",
            "pony",
            "care",
            "rate",
            "bomb",
            "val",
            "organ",
            "irrit",
            "analog",
            "effect",
            "call",
        ];
        let suffixes = [
            "", "s", "es", "ed", "ing", "ation", "ational", "ness", "ful", "fulness", "ment",
            "ement", "ly", "li", "er", "izer", "ize", "ization", "able", "ible", "al", "alli",
            "ance", "ence", "anci", "enci", "ous", "ousli", "ive", "iveness", "iviti", "biliti",
            "ism", "alism", "ate", "iti", "ical", "icate", "iciti", "ative", "alize", "ion",
            "ions", "ou", "logi", "bli", "entli", "eli", "y", "ies", "eed", "ement", "ant",
        ];
        let db = libsql::Builder::new_local(":memory:")
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        conn.execute(
            "CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'porter unicode61')",
            (),
        )
        .await
        .unwrap();
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')", ())
            .await
            .unwrap();
        let mut words = Vec::new();
        for r in roots {
            for s in suffixes {
                words.push(format!("{r}{s}"));
            }
        }
        for w in &words {
            conn.execute("INSERT INTO t (body) VALUES (?1)", [w.as_str()])
                .await
                .unwrap();
        }
        let mut rows = conn
            .query("SELECT doc, term FROM v ORDER BY doc", ())
            .await
            .unwrap();
        let mut checked = 0;
        while let Some(row) = rows.next().await.unwrap() {
            let doc: i64 = row.get(0).unwrap();
            let term: String = row.get(1).unwrap();
            let word = &words[doc as usize - 1];
            assert_eq!(porter(word), term, "{word}");
            checked += 1;
        }
        assert_eq!(checked, words.len());
    }

    #[test]
    fn prefixes_search_a_stem_stable_prefix_too() {
        let p = parse_query("deploy* lob* Lobsters* a* happy*");
        assert_eq!(
            p.match_expr().unwrap(),
            r#"("deploy"* OR "deplo"*) AND "lob"* AND "lobsters"* AND "a" AND ("happy"* OR "happ"*)"#
        );
        assert_eq!(p.refinements(), vec!["deploy", "lobsters", "happy"]);
    }

    #[test]
    fn snippet_highlights_terms_by_code_point() {
        let (s, h) = snippet("Größe findable **Lobsters** here", &[word("lobster")]);
        assert_eq!(s, "Größe findable **Lobsters** here");
        assert_eq!(marked(&s, &h), vec!["Lobsters"]);
        assert_eq!(h, vec![Highlight { start: 17, end: 25 }]);

        let phrase = Term {
            text: "exact phrase".into(),
            phrase: true,
            prefix: false,
        };
        let (s, h) = snippet("an  exact\n\nphrase and exact words", &[phrase]);
        assert_eq!(s, "an exact phrase and exact words");
        assert_eq!(marked(&s, &h), vec!["exact phrase"]);

        let prefix = Term {
            text: "dep".into(),
            phrase: false,
            prefix: true,
        };
        let (_, h) = snippet("Deploys and dependencies", &[prefix]);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn long_bodies_are_cut_around_the_first_hit() {
        let mut body: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        body[60] = "needle".into();
        let (s, h) = snippet(&body.join(" "), &[word("needle")]);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert_eq!(s.split_whitespace().count(), SNIPPET_TOKENS);
        assert_eq!(marked(&s, &h), vec!["needle"]);
        let (s, h) = snippet(&body.join(" "), &[]);
        assert!(s.starts_with("w0 ") && s.ends_with('…') && h.is_empty());
        let huge = format!("{} needle", "x".repeat(5000));
        let (s, h) = snippet(&huge, &[word("needle")]);
        assert!(s.chars().count() <= SNIPPET_MAX_CHARS + 2);
        assert_eq!(marked(&s, &h), vec!["needle"]);
    }

    #[test]
    fn cursors_are_bound_to_their_search() {
        let b = cursor_binding(
            "usr_1",
            "wsp_1",
            &SearchScope::Workspace,
            "x",
            SearchOrder::Relevance,
        );
        let key = SearchKey {
            score: -1.25e-7,
            created_at: "2026-01-01T00:00:00Z".into(),
            id: "msg_1".into(),
        };
        let c = encode_cursor(&b, &key);
        assert_eq!(decode_cursor(&c, &b).unwrap(), key);
        let other = cursor_binding(
            "usr_1",
            "wsp_1",
            &SearchScope::Workspace,
            "y",
            SearchOrder::Relevance,
        );
        assert_eq!(
            decode_cursor(&c, &other).unwrap_err().code,
            "invalid_cursor"
        );
        assert_eq!(decode_cursor("zz", &b).unwrap_err().code, "invalid_cursor");
    }
}
