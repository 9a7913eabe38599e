//! Users, identities, sessions, magic links and invites.

use super::rows::{exists, query_opt};
use crate::model::User;
use crate::{clock, ids, Error, Result};
use libsql::{Connection, Row};

/// Columns for [`user_from_row`], prefixed with `u.`.
pub const USER_COLUMNS: &str = "u.id, u.display_name, u.avatar_url, u.handle, u.kind, u.created_at";

/// Maps [`USER_COLUMNS`] starting at column `at`.
pub fn user_from_row(r: &Row, at: i32) -> Result<User> {
    Ok(User {
        id: r.get(at)?,
        display_name: r.get(at + 1)?,
        avatar_url: r.get(at + 2)?,
        handle: r.get::<Option<String>>(at + 3)?.unwrap_or_default(),
        kind: r.get(at + 4)?,
        created_at: r.get(at + 5)?,
    })
}

/// Inserts a user, plus an identity when `identity` is `(provider, subject, email)`.
pub async fn insert(
    conn: &Connection,
    display_name: &str,
    identity: Option<(&str, &str, &str)>,
) -> Result<User> {
    let user = User {
        id: ids::new_id("usr"),
        display_name: display_name.to_string(),
        avatar_url: String::new(),
        handle: String::new(),
        kind: "human".into(),
        created_at: clock::now_string(),
    };
    conn.execute(
        "INSERT INTO users (id, display_name, avatar_url, kind, created_at) VALUES (?1, ?2, '', 'human', ?3)",
        (user.id.as_str(), user.display_name.as_str(), user.created_at.as_str()),
    )
    .await?;
    if let Some((provider, subject, email)) = identity {
        conn.execute(
            "INSERT INTO identities (id, user_id, provider, provider_subject, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (ids::new_id("idn"), user.id.as_str(), provider, subject, email, user.created_at.as_str()),
        )
        .await?;
    }
    Ok(user)
}

/// A user by id.
pub async fn get(conn: &Connection, id: &str) -> Result<Option<User>> {
    query_opt(
        conn,
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
        [id],
        |r| user_from_row(r, 0),
    )
    .await
}

/// The oldest user (dev fallback).
pub async fn first(conn: &Connection) -> Result<Option<User>> {
    query_opt(
        conn,
        &format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.kind = 'human' ORDER BY u.rowid LIMIT 1"
        ),
        (),
        |r| user_from_row(r, 0),
    )
    .await
}

/// The oldest user with any identity carrying `email`.
pub async fn by_email(conn: &Connection, email: &str) -> Result<Option<User>> {
    query_opt(
        conn,
        &format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN identities i ON i.user_id = u.id
             WHERE i.email = ?1 ORDER BY u.rowid LIMIT 1"
        ),
        [email],
        |r| user_from_row(r, 0),
    )
    .await
}

/// A user by handle.
pub async fn by_handle(conn: &Connection, handle: &str) -> Result<Option<User>> {
    query_opt(
        conn,
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.handle = ?1"),
        [handle],
        |r| user_from_row(r, 0),
    )
    .await
}

/// Updates profile fields that are `Some`.
pub async fn update_profile(
    conn: &Connection,
    id: &str,
    display_name: Option<&str>,
    handle: Option<&str>,
    avatar_url: Option<&str>,
) -> Result<()> {
    let result = conn
        .execute(
            "UPDATE users SET display_name = COALESCE(?2, display_name),
                 handle = CASE WHEN ?3 IS NULL THEN handle WHEN ?3 = '' THEN NULL ELSE ?3 END,
                 avatar_url = COALESCE(?4, avatar_url)
             WHERE id = ?1",
            (id, display_name, handle, avatar_url),
        )
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if super::rows::is_unique_violation(&e) => {
            Err(Error::conflict("handle_taken", "handle is already taken"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates a session for `user_id`; returns (id, raw token, created_at, expires_at).
pub async fn insert_session(
    conn: &Connection,
    user_id: &str,
    ttl: chrono::Duration,
) -> Result<crate::model::Session> {
    let session = crate::model::Session {
        id: ids::new_id("ses"),
        token: ids::new_secret("sst"),
        user_id: user_id.to_string(),
        created_at: clock::now_string(),
        expires_at: clock::after(ttl),
    };
    conn.execute(
        "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            session.id.as_str(),
            ids::hash_secret(&session.token),
            user_id,
            session.created_at.as_str(),
            session.expires_at.as_str(),
        ),
    )
    .await?;
    Ok(session)
}

/// The user of a live (unrevoked, unexpired) session token.
pub async fn session_user(conn: &Connection, token: &str) -> Result<Option<User>> {
    let found = query_opt(
        conn,
        &format!(
            "SELECT {USER_COLUMNS}, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.revoked_at IS NULL"
        ),
        [ids::hash_secret(token)],
        |r| Ok((user_from_row(r, 0)?, r.get::<String>(6)?)),
    )
    .await?;
    Ok(found.and_then(|(user, expires)| (!clock::is_past(&expires)).then_some(user)))
}

/// Revokes a session token (logout). Returns whether a live session was revoked.
pub async fn revoke_session(conn: &Connection, token: &str) -> Result<bool> {
    Ok(conn
        .execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
            (ids::hash_secret(token), clock::now_string()),
        )
        .await?
        > 0)
}

/// True when an identity with this email exists.
pub async fn email_exists(conn: &Connection, email: &str) -> Result<bool> {
    exists(conn, "SELECT 1 FROM identities WHERE email = ?1", [email]).await
}
