//! Full-text search: one query over `messages_fts` (or over `messages` alone when the search
//! has no positive term) with scope, operator filters and keyset pagination. The caller
//! builds the FTS5 expression; every term in it is already a quoted FTS5 string.

use super::rows::query_all;
use super::users::{user_from_row, USER_COLUMNS};
use crate::model::User;
use crate::Result;
use libsql::{Connection, Row, Value};

/// Which messages a search may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchScope {
    /// Channel messages (roots and replies) of the whole workspace, never DMs.
    Workspace,
    Channel(String),
    Direct(String),
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    /// bm25 (lower is better), then newest, then id.
    Relevance,
    /// created_at descending, then id.
    Newest,
}

/// The sort key of the last row of a page; the next page starts strictly after it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchKey {
    pub score: f64,
    pub created_at: String,
    pub id: String,
}

/// A fully resolved search.
#[derive(Debug, Clone)]
pub struct SearchSpec {
    pub workspace_id: String,
    pub scope: SearchScope,
    /// FTS5 expression the message must match (positive terms, with any `NOT`s).
    pub match_expr: Option<String>,
    /// FTS5 expression the message must not match; used only without `match_expr`.
    pub exclude_expr: Option<String>,
    /// Lowercase ASCII text the body must contain (case-insensitive).
    pub contains: Vec<String>,
    /// Author ids (any of); `None` = any author.
    pub authors: Option<Vec<String>>,
    /// Channel ids (any of); `None` = any channel in scope.
    pub channels: Option<Vec<String>>,
    pub has_file: bool,
    pub has_link: bool,
    pub has_reaction: bool,
    /// Inclusive lower bound on `created_at` (a `YYYY-MM-DD` prefix).
    pub created_from: Option<String>,
    /// Exclusive upper bound on `created_at` (a `YYYY-MM-DD` prefix).
    pub created_before: Option<String>,
    pub order: SearchOrder,
    pub after: Option<SearchKey>,
    /// Rows to return (callers ask for one more than a page to detect the next page).
    pub limit: i64,
    /// Most matching messages ranked per query (the newest ones after the cursor).
    pub window: i64,
}

/// One matching message with what a result needs (the body only to cut the snippet).
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub id: String,
    pub workspace_id: String,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    pub direct_conversation_id: Option<String>,
    pub author: User,
    pub parent_message_id: Option<String>,
    pub thread_root_id: String,
    pub channel_seq: Option<i64>,
    pub thread_seq: Option<i64>,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub reply_count: i64,
    pub last_reply_at: Option<String>,
    pub body: String,
    pub score: f64,
}

impl SearchHit {
    pub fn key(&self) -> SearchKey {
        SearchKey {
            score: self.score,
            created_at: self.created_at.clone(),
            id: self.id.clone(),
        }
    }
}

/// Positional parameters for a query assembled from optional parts.
struct Params(Vec<Value>);

impl Params {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("?{}", self.0.len())
    }
    fn list(&mut self, values: &[String]) -> String {
        values
            .iter()
            .map(|v| self.bind(v.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn hit_from_row(r: &Row) -> Result<SearchHit> {
    Ok(SearchHit {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        channel_id: r.get(2)?,
        channel_name: r.get(3)?,
        direct_conversation_id: r.get(4)?,
        parent_message_id: r.get(5)?,
        thread_root_id: r.get(6)?,
        channel_seq: r.get(7)?,
        thread_seq: r.get(8)?,
        created_at: r.get(9)?,
        edited_at: r.get(10)?,
        reply_count: r.get(11)?,
        last_reply_at: r.get(12)?,
        body: r.get(13)?,
        score: r.get(14)?,
        author: user_from_row(r, 15)?,
    })
}

/// Runs a search: at most `spec.limit` hits in `spec.order`, after `spec.after`.
///
/// With words, the newest `spec.window` matching messages (by index order, after the
/// cursor) are ranked, so a word that matches most of a huge workspace costs a bounded
/// amount of work. Without words, messages are walked newest first.
pub async fn run(conn: &Connection, spec: &SearchSpec) -> Result<Vec<SearchHit>> {
    let mut p = Params(Vec::new());
    let mut filters = Vec::new();
    let ranked = spec.match_expr.is_some() && spec.order == SearchOrder::Relevance;
    let (from, score, window_order, window) = match &spec.match_expr {
        // CROSS JOIN keeps the index as the outer loop: probing the index once per message
        // (which the planner may pick when a filter has an index) is far slower.
        Some(expr) => {
            filters.push(format!("messages_fts MATCH {}", p.bind(expr.clone())));
            (
                "messages_fts CROSS JOIN messages m ON m.rowid = messages_fts.rowid",
                if ranked { "bm25(messages_fts)" } else { "0.0" },
                "messages_fts.rowid DESC",
                spec.window.max(spec.limit),
            )
        }
        None => (
            "messages m",
            "0.0",
            "m.created_at DESC, m.id DESC",
            spec.limit,
        ),
    };
    filters.extend([
        format!("m.workspace_id = {}", p.bind(spec.workspace_id.clone())),
        "m.deleted_at IS NULL".to_string(),
        "m.kind = 'message'".to_string(),
    ]);
    match &spec.scope {
        SearchScope::Workspace => filters.push("m.channel_id IS NOT NULL".into()),
        SearchScope::Channel(id) => filters.push(format!("m.channel_id = {}", p.bind(id.clone()))),
        SearchScope::Direct(id) => {
            filters.push(format!("m.direct_conversation_id = {}", p.bind(id.clone())))
        }
    }
    if let Some(authors) = &spec.authors {
        filters.push(format!("m.author_id IN ({})", p.list(authors)));
    }
    if let Some(channels) = &spec.channels {
        filters.push(format!("m.channel_id IN ({})", p.list(channels)));
    }
    for text in &spec.contains {
        let pattern = format!("%{}%", text.replace(['%', '_', '\\'], ""));
        filters.push(format!("m.body LIKE {}", p.bind(pattern)));
    }
    if spec.has_file {
        filters
            .push("EXISTS (SELECT 1 FROM message_attachments a WHERE a.message_id = m.id)".into());
    }
    if spec.has_link {
        filters.push("(m.body LIKE '%http://%' OR m.body LIKE '%https://%')".into());
    }
    if spec.has_reaction {
        filters.push("EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = m.id)".into());
    }
    if let Some(day) = &spec.created_from {
        filters.push(format!("m.created_at >= {}", p.bind(day.clone())));
    }
    if let Some(day) = &spec.created_before {
        filters.push(format!("m.created_at < {}", p.bind(day.clone())));
    }
    if spec.match_expr.is_none() {
        if let Some(expr) = &spec.exclude_expr {
            filters.push(format!(
                "m.rowid NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {})",
                p.bind(expr.clone())
            ));
        }
    }
    if let Some(key) = &spec.after {
        let t = p.bind(key.created_at.clone());
        let i = p.bind(key.id.clone());
        let newer_first = format!("(m.created_at < {t} OR (m.created_at = {t} AND m.id < {i}))");
        if ranked {
            let s = p.bind(key.score);
            filters.push(format!(
                "({score} > {s} OR ({score} = {s} AND {newer_first}))"
            ));
        } else {
            filters.push(newer_first);
        }
    }
    let window = p.bind(window);
    let limit = p.bind(spec.limit);
    let (order, outer_order) = if ranked {
        (
            "score, created_at DESC, id DESC",
            "h.score, h.created_at DESC, h.id DESC",
        )
    } else {
        ("created_at DESC, id DESC", "h.created_at DESC, h.id DESC")
    };
    // Window, then rank and cut on the narrow columns, then join what a result shows.
    let sql = format!(
        "WITH candidates AS (
            SELECT m.id AS id, m.created_at AS created_at, {score} AS score
            FROM {from}
            WHERE {filters}
            ORDER BY {window_order} LIMIT {window}
         ), hits AS (
            SELECT id, created_at, score FROM candidates ORDER BY {order} LIMIT {limit}
         )
         SELECT m.id, m.workspace_id, m.channel_id, c.name, m.direct_conversation_id, m.parent_message_id,
            m.thread_root_id, m.channel_seq, m.thread_seq, m.created_at, m.edited_at,
            COALESCE(ts.reply_count, 0), ts.last_reply_at, m.body, h.score, {USER_COLUMNS}
         FROM hits h
         JOIN messages m ON m.id = h.id
         JOIN users u ON u.id = m.author_id
         LEFT JOIN channels c ON c.id = m.channel_id
         LEFT JOIN thread_state ts ON ts.root_message_id = m.id AND m.parent_message_id IS NULL
         ORDER BY {outer_order}",
        filters = filters.join("\n              AND "),
    );
    query_all(conn, &sql, p.0, hit_from_row).await
}
