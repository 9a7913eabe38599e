//! Workspaces and their members.

use super::rows::{query_all, query_opt};
use super::users::{user_from_row, USER_COLUMNS};
use crate::model::{Member, Workspace};
use crate::{clock, ids, Error, Result};
use libsql::{Connection, Row};

fn workspace_from_row(r: &Row) -> Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        name: r.get(1)?,
        slug: r.get(2)?,
        created_at: r.get(3)?,
        role: r.get(4)?,
    })
}

/// Inserts a workspace; a taken slug is a conflict.
pub async fn insert(conn: &Connection, name: &str, slug: &str) -> Result<Workspace> {
    let ws = Workspace {
        id: ids::new_id("wsp"),
        name: name.to_string(),
        slug: slug.to_string(),
        created_at: clock::now_string(),
        role: None,
    };
    match conn
        .execute(
            "INSERT INTO workspaces (id, name, slug, created_at) VALUES (?1, ?2, ?3, ?4)",
            (ws.id.as_str(), name, slug, ws.created_at.as_str()),
        )
        .await
    {
        Ok(_) => Ok(ws),
        Err(e) if super::rows::is_unique_violation(&e) => Err(Error::conflict(
            "slug_taken",
            format!("workspace slug {slug:?} is already taken"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Adds a member (no-op when already a member).
pub async fn add_member(
    conn: &Connection,
    workspace_id: &str,
    user_id: &str,
    role: &str,
) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO workspace_members (workspace_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        (workspace_id, user_id, role, clock::now_string()),
    )
    .await?;
    Ok(())
}

/// A workspace with the caller's role, if the caller is a member.
pub async fn get_for(conn: &Connection, id: &str, user_id: &str) -> Result<Option<Workspace>> {
    query_opt(
        conn,
        "SELECT w.id, w.name, w.slug, w.created_at, m.role FROM workspaces w
         JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = ?2 WHERE w.id = ?1",
        (id, user_id),
        workspace_from_row,
    )
    .await
}

/// A workspace by slug.
pub async fn by_slug(conn: &Connection, slug: &str) -> Result<Option<Workspace>> {
    query_opt(
        conn,
        "SELECT id, name, slug, created_at, NULL FROM workspaces WHERE slug = ?1",
        [slug],
        workspace_from_row,
    )
    .await
}

/// The member's role, if a member.
pub async fn role(conn: &Connection, workspace_id: &str, user_id: &str) -> Result<Option<String>> {
    query_opt(
        conn,
        "SELECT role FROM workspace_members WHERE workspace_id = ?1 AND user_id = ?2",
        (workspace_id, user_id),
        |r| Ok(r.get::<String>(0)?),
    )
    .await
}

/// Workspaces of a user, oldest first.
pub async fn list_for(conn: &Connection, user_id: &str) -> Result<Vec<Workspace>> {
    query_all(
        conn,
        "SELECT w.id, w.name, w.slug, w.created_at, m.role FROM workspaces w
         JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = ?1 ORDER BY w.rowid",
        [user_id],
        workspace_from_row,
    )
    .await
}

/// A page of members ordered by display name then id, optionally filtered by a name/handle
/// substring and role. `after` is the `(display_name, user_id)` of the previous page's end.
pub async fn members(
    conn: &Connection,
    workspace_id: &str,
    query: &str,
    role: &str,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<Member>> {
    let (after_name, after_id) = after.unwrap_or_default();
    let like = format!("%{}%", query.to_lowercase().replace(['%', '_'], ""));
    query_all(
        conn,
        &format!(
            "SELECT {USER_COLUMNS}, m.role, m.created_at FROM workspace_members m
             JOIN users u ON u.id = m.user_id
             WHERE m.workspace_id = ?1
               AND (?2 = '%%' OR lower(u.display_name) LIKE ?2 OR lower(COALESCE(u.handle, '')) LIKE ?2)
               AND (?3 = '' OR m.role = ?3)
               AND (?4 = '' OR (u.display_name, u.id) > (?4, ?5))
             ORDER BY u.display_name, u.id LIMIT ?6"
        ),
        (workspace_id, like, role, after_name, after_id, limit),
        |r| {
            Ok(Member {
                workspace_id: workspace_id.to_string(),
                user: user_from_row(r, 0)?,
                role: r.get(6)?,
                joined_at: r.get(7)?,
            })
        },
    )
    .await
}

/// How many members a workspace has.
pub async fn member_count(conn: &Connection, workspace_id: &str) -> Result<i64> {
    super::rows::query_i64(
        conn,
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = ?1",
        [workspace_id],
    )
    .await
}

/// True when a workspace with this id exists.
pub async fn by_id_exists(conn: &Connection, id: &str) -> Result<bool> {
    super::rows::exists(conn, "SELECT 1 FROM workspaces WHERE id = ?1", [id]).await
}
