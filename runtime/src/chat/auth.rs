//! Identity: magic links, sessions, the dev bootstrap, admin user/invite creation, profiles.

use super::{Actor, Chat};
use crate::model::{Channel, Invite, MagicLink, Session, User, Workspace};
use crate::store::events::{self, NewEvent};
use crate::store::{channels, users, workspaces};
use crate::{clock, ids, Error, Result};
use serde_json::json;

/// The outcome of consuming a magic link.
#[derive(Debug, Clone)]
pub struct ConsumedMagicLink {
    pub user: User,
    pub session: Session,
}

/// The outcome of the dev/admin bootstrap.
#[derive(Debug, Clone)]
pub struct BootstrapResult {
    pub user: User,
    /// Set when the bootstrap created the workspace (first run only).
    pub workspace: Option<Workspace>,
    pub channel: Option<Channel>,
}

fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(Error::invalid("email_required", "email is required"));
    }
    if email.len() > 320 || !email.contains('@') {
        return Err(Error::invalid("invalid_email", "email is not valid"));
    }
    Ok(email)
}

fn clean_name(name: &str, max: usize) -> Result<String> {
    let name = name.trim().to_string();
    if name.chars().count() > max {
        return Err(Error::invalid(
            "name_too_long",
            format!("name is longer than {max} characters"),
        ));
    }
    Ok(name)
}

impl Chat {
    /// Creates a magic link (15 minutes) and returns it with its raw token.
    pub async fn request_magic_link(&self, email: &str, display_name: &str) -> Result<MagicLink> {
        let email = normalize_email(email)?;
        let display_name = clean_name(display_name, 80)?;
        let ttl = self.config.magic_link_ttl;
        self.store
            .write(move |tx| async move {
                let link = MagicLink {
                    id: ids::new_id("mln"),
                    token: ids::new_secret("mgt"),
                    email,
                    display_name,
                    created_at: clock::now_string(),
                    expires_at: clock::after(ttl),
                    used_at: None,
                };
                tx.execute(
                    "INSERT INTO auth_magic_links (id, token_hash, email, display_name, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    (
                        link.id.as_str(),
                        ids::hash_secret(&link.token),
                        link.email.as_str(),
                        link.display_name.as_str(),
                        link.created_at.as_str(),
                        link.expires_at.as_str(),
                    ),
                )
                .await?;
                Ok(link)
            })
            .await
    }

    /// Consumes a magic link at most once (atomic under concurrency) and opens a session.
    pub async fn consume_magic_link(&self, token: &str) -> Result<ConsumedMagicLink> {
        let token = token.trim().to_string();
        if token.is_empty() {
            return Err(Error::invalid("token_required", "token is required"));
        }
        let ttl = self.config.session_ttl;
        self.store
            .write(move |tx| async move {
                let hash = ids::hash_secret(&token);
                let row = crate::store::rows::query_opt(
                    &tx,
                    "SELECT email, display_name, expires_at, used_at FROM auth_magic_links WHERE token_hash = ?1",
                    [hash.as_str()],
                    |r| {
                        Ok((
                            r.get::<String>(0)?,
                            r.get::<String>(1)?,
                            r.get::<String>(2)?,
                            r.get::<Option<String>>(3)?,
                        ))
                    },
                )
                .await?;
                let Some((email, display_name, expires_at, used_at)) = row else {
                    return Err(Error::invalid("invalid_magic_link", "magic link is not valid"));
                };
                if used_at.is_some() {
                    return Err(Error::invalid("magic_link_used", "magic link already used"));
                }
                if clock::is_past(&expires_at) {
                    return Err(Error::invalid("magic_link_expired", "magic link expired"));
                }
                let changed = tx
                    .execute(
                        "UPDATE auth_magic_links SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL",
                        (hash.as_str(), clock::now_string()),
                    )
                    .await?;
                if changed != 1 {
                    return Err(Error::invalid("magic_link_used", "magic link already used"));
                }
                let user = match users::by_email(&tx, &email).await? {
                    Some(user) => user,
                    None => {
                        let name = if display_name.is_empty() { email.clone() } else { display_name };
                        users::insert(&tx, &name, Some(("magic", &email, &email))).await?
                    }
                };
                let session = users::insert_session(&tx, &user.id, ttl).await?;
                Ok(ConsumedMagicLink { user, session })
            })
            .await
    }

    /// Opens a session for a user (GitHub sign-in, tests).
    pub async fn create_session(&self, user_id: &str) -> Result<Session> {
        let user_id = user_id.to_string();
        let ttl = self.config.session_ttl;
        self.store
            .write(move |tx| async move { users::insert_session(&tx, &user_id, ttl).await })
            .await
    }

    /// The user of a live session token.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>> {
        let conn = self.store.reader().await?;
        users::session_user(&conn, token.trim()).await
    }

    /// Revokes a session token.
    pub async fn logout(&self, token: &str) -> Result<bool> {
        let token = token.to_string();
        self.store
            .write(move |tx| async move { users::revoke_session(&tx, &token).await })
            .await
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let conn = self.store.reader().await?;
        users::get(&conn, id).await
    }

    /// The oldest human user (the dev fallback caller).
    pub async fn first_user(&self) -> Result<Option<User>> {
        let conn = self.store.reader().await?;
        users::first(&conn).await
    }

    /// Idempotent bootstrap: with no users, creates the user, workspace `ClickClack`
    /// (`clickclack`, user as owner) and `#general`; otherwise returns the first user.
    pub async fn bootstrap(&self, name: &str, email: &str) -> Result<BootstrapResult> {
        let name = match clean_name(name, 80)? {
            n if n.is_empty() => "Local User".to_string(),
            n => n,
        };
        let email = email.trim().to_lowercase();
        self.store
            .write(move |tx| async move {
                if let Some(user) = users::first(&tx).await? {
                    return Ok(BootstrapResult {
                        user,
                        workspace: None,
                        channel: None,
                    });
                }
                let identity =
                    (!email.is_empty()).then_some(("local", email.as_str(), email.as_str()));
                let user = users::insert(&tx, &name, identity).await?;
                let workspace = match workspaces::by_slug(&tx, "clickclack").await? {
                    Some(ws) => ws,
                    None => workspaces::insert(&tx, "ClickClack", "clickclack").await?,
                };
                workspaces::add_member(&tx, &workspace.id, &user.id, "owner").await?;
                let channel = match channels::by_name(&tx, &workspace.id, "general").await? {
                    Some(c) => c,
                    None => {
                        let c = channels::insert(&tx, &workspace.id, "general", "public").await?;
                        events::insert(
                            &tx,
                            NewEvent::public(
                                "channel.created",
                                &workspace.id,
                                json!({"channel_id": c.id}),
                            )
                            .channel(Some(&c.id)),
                        )
                        .await?;
                        c
                    }
                };
                Ok(BootstrapResult {
                    user,
                    workspace: Some(workspace),
                    channel: Some(channel),
                })
            })
            .await
    }

    /// Admin: creates a user (identity `local` when an email is given), optionally a member
    /// of a workspace. A duplicate email is a conflict.
    pub async fn admin_create_user(
        &self,
        name: &str,
        email: &str,
        workspace_id: Option<&str>,
    ) -> Result<User> {
        let name = match clean_name(name, 80)? {
            n if n.is_empty() => "Local User".to_string(),
            n => n,
        };
        let email = email.trim().to_lowercase();
        let workspace_id = workspace_id.map(str::to_string);
        self.store
            .write(move |tx| async move {
                if !email.is_empty() && users::email_exists(&tx, &email).await? {
                    return Err(Error::conflict(
                        "email_taken",
                        format!("a user with email {email} already exists"),
                    ));
                }
                let identity =
                    (!email.is_empty()).then_some(("local", email.as_str(), email.as_str()));
                let user = users::insert(&tx, &name, identity).await?;
                if let Some(ws) = workspace_id {
                    if workspaces::by_id_exists(&tx, &ws).await? {
                        workspaces::add_member(&tx, &ws, &user.id, "member").await?;
                    } else {
                        return Err(Error::not_found("workspace"));
                    }
                }
                Ok(user)
            })
            .await
    }

    /// Admin: an invite to a workspace created by the first user (who must be a member).
    pub async fn admin_create_invite(&self, workspace_id: &str) -> Result<Invite> {
        let workspace_id = workspace_id.trim().to_string();
        self.store
            .write(move |tx| async move {
                let creator = users::first(&tx).await?.ok_or_else(|| Error::not_found("user"))?;
                super::access::member_role(&tx, &workspace_id, &creator.id).await?;
                let invite = Invite {
                    id: ids::new_id("inv"),
                    workspace_id,
                    token: ids::new_secret("tok"),
                    created_by: creator.id,
                    created_at: clock::now_string(),
                    accepted_at: None,
                };
                tx.execute(
                    "INSERT INTO invites (id, workspace_id, token_hash, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    (
                        invite.id.as_str(),
                        invite.workspace_id.as_str(),
                        ids::hash_secret(&invite.token),
                        invite.created_by.as_str(),
                        invite.created_at.as_str(),
                    ),
                )
                .await?;
                Ok(invite)
            })
            .await
    }

    /// `PATCH /api/me`: display name (1–80 chars), handle (`@` stripped, lowercased,
    /// 2–32 of `[a-z0-9_-]`, empty clears), avatar URL (blank or http(s)).
    pub async fn update_profile(
        &self,
        actor: &Actor,
        display_name: Option<&str>,
        handle: Option<&str>,
        avatar_url: Option<&str>,
    ) -> Result<User> {
        if actor.user.kind == "bot" {
            return Err(Error::forbidden(
                "bot_forbidden",
                "bots cannot change their profile",
            ));
        }
        let display_name = match display_name.map(str::trim) {
            Some("") => {
                return Err(Error::invalid(
                    "display_name_required",
                    "display_name cannot be blank",
                ))
            }
            Some(n) if n.chars().count() > 80 => {
                return Err(Error::invalid(
                    "name_too_long",
                    "display_name is longer than 80 characters",
                ))
            }
            other => other.map(str::to_string),
        };
        let handle = match handle {
            None => None,
            Some(h) => {
                let h = h.trim().trim_start_matches('@').to_lowercase();
                let valid = h.is_empty()
                    || ((2..=32).contains(&h.len())
                        && h.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                        }));
                if !valid {
                    return Err(Error::invalid(
                        "invalid_handle",
                        "handle must be 2-32 characters of a-z, 0-9, _ or -",
                    ));
                }
                Some(h)
            }
        };
        let avatar_url = match avatar_url.map(str::trim) {
            Some(a) if !a.is_empty() && !a.starts_with("https://") && !a.starts_with("http://") => {
                return Err(Error::invalid(
                    "invalid_avatar_url",
                    "avatar_url must be an http(s) URL",
                ))
            }
            Some(a) if a.len() > 2048 => {
                return Err(Error::invalid(
                    "invalid_avatar_url",
                    "avatar_url is too long",
                ))
            }
            other => other.map(str::to_string),
        };
        let id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                users::update_profile(
                    &tx,
                    &id,
                    display_name.as_deref(),
                    handle.as_deref(),
                    avatar_url.as_deref(),
                )
                .await?;
                users::get(&tx, &id)
                    .await?
                    .ok_or_else(|| Error::not_found("user"))
            })
            .await
    }
}
