//! Sign-in through an external identity provider (GitHub OAuth): identity upsert by
//! (provider, subject) — never by email — plus the default-workspace join and a session,
//! all in one write transaction.

use super::Chat;
use crate::model::{Session, User};
use crate::store::events::{self, NewEvent};
use crate::store::{channels, rows::query_opt, users, workspaces};
use crate::{Error, Result};
use serde_json::json;

/// Slug of the workspace external sign-ins join.
pub const DEFAULT_WORKSPACE_SLUG: &str = "clickclack";

/// First non-blank of `candidates`, at most 80 characters.
fn pick_name(candidates: &[&str], fallback: String) -> String {
    candidates
        .iter()
        .map(|c| c.trim())
        .find(|c| !c.is_empty())
        .map(|c| c.chars().take(80).collect())
        .unwrap_or(fallback)
}

impl Chat {
    /// Signs in the holder of `(provider, subject)`. A known identity returns its user
    /// unchanged; otherwise a user is created with `display_name` (blank → email →
    /// `<provider>:<subject>`) and `avatar_url` (kept only when http(s)). The user joins
    /// the default workspace (`clickclack`, created with `#general` when missing; a user
    /// who finds it without members becomes its owner, everyone else a member — an
    /// existing membership keeps its role) and gets a new session.
    pub async fn sign_in_external(
        &self,
        provider: &str,
        subject: &str,
        email: &str,
        display_name: &str,
        avatar_url: &str,
    ) -> Result<(User, Session)> {
        let provider = provider.trim().to_string();
        let subject = subject.trim().to_string();
        if provider.is_empty() || subject.is_empty() {
            return Err(Error::invalid(
                "identity_required",
                "identity provider and subject are required",
            ));
        }
        let email = email.trim().to_lowercase();
        let name = pick_name(&[display_name, &email], format!("{provider}:{subject}"));
        let avatar = avatar_url.trim();
        let avatar = (avatar.len() <= 2048
            && (avatar.starts_with("https://") || avatar.starts_with("http://")))
        .then(|| avatar.to_string());
        let ttl = self.config.session_ttl;
        self.store
            .write(move |tx| async move {
                let existing = query_opt(
                    &tx,
                    "SELECT user_id FROM identities WHERE provider = ?1 AND provider_subject = ?2",
                    (provider.as_str(), subject.as_str()),
                    |r| Ok(r.get::<String>(0)?),
                )
                .await?;
                let user = match existing {
                    Some(user_id) => users::get(&tx, &user_id)
                        .await?
                        .ok_or_else(|| Error::internal("identity without user"))?,
                    None => {
                        let user = users::insert(
                            &tx,
                            &name,
                            Some((provider.as_str(), subject.as_str(), email.as_str())),
                        )
                        .await?;
                        if let Some(avatar) = &avatar {
                            users::update_profile(&tx, &user.id, None, None, Some(avatar)).await?;
                        }
                        users::get(&tx, &user.id)
                            .await?
                            .ok_or_else(|| Error::internal("user vanished"))?
                    }
                };
                let workspace = match workspaces::by_slug(&tx, DEFAULT_WORKSPACE_SLUG).await? {
                    Some(ws) => ws,
                    None => {
                        let ws =
                            workspaces::insert(&tx, "ClickClack", DEFAULT_WORKSPACE_SLUG).await?;
                        let general = channels::insert(&tx, &ws.id, "general", "public").await?;
                        events::insert(
                            &tx,
                            NewEvent::public(
                                "channel.created",
                                &ws.id,
                                json!({"channel_id": general.id}),
                            )
                            .channel(Some(&general.id)),
                        )
                        .await?;
                        ws
                    }
                };
                let role = if workspaces::member_count(&tx, &workspace.id).await? == 0 {
                    "owner"
                } else {
                    "member"
                };
                workspaces::add_member(&tx, &workspace.id, &user.id, role).await?;
                let session = users::insert_session(&tx, &user.id, ttl).await?;
                Ok((user, session))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::pick_name;

    #[test]
    fn names_fall_back_in_order() {
        assert_eq!(pick_name(&["  ", "a@b.c"], "gh:1".into()), "a@b.c");
        assert_eq!(pick_name(&["", ""], "gh:1".into()), "gh:1");
        assert_eq!(pick_name(&[&"x".repeat(100)], "f".into()).len(), 80);
    }
}
