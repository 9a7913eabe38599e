//! Workspaces: list, create, get, member directory.

use super::{access, clamp_limit, Actor, Chat};
use crate::model::{Member, Workspace};
use crate::store::workspaces;
use crate::{ids, Error, Result};

/// A page of the member directory.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub members: Vec<Member>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
    pub total_count: i64,
}

impl Chat {
    /// Workspaces the caller belongs to, oldest first.
    pub async fn list_workspaces(&self, actor: &Actor) -> Result<Vec<Workspace>> {
        actor.require(super::scopes::WORKSPACES_READ)?;
        let conn = self.store.reader().await?;
        workspaces::list_for(&conn, actor.id()).await
    }

    /// Creates a workspace with the caller as owner. Name blank → `Untitled`; slug from
    /// `slug` or the name; a taken slug is 409.
    pub async fn create_workspace(
        &self,
        actor: &Actor,
        name: &str,
        slug: Option<&str>,
    ) -> Result<Workspace> {
        if actor.user.kind == "bot" {
            return Err(Error::forbidden(
                "bot_forbidden",
                "bots cannot create workspaces",
            ));
        }
        let name = match name.trim() {
            "" => "Untitled".to_string(),
            n if n.chars().count() > 80 => {
                return Err(Error::invalid(
                    "name_too_long",
                    "workspace name is longer than 80 characters",
                ))
            }
            n => n.to_string(),
        };
        let slug = match slug.map(ids::slug).filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => ids::slug(&name),
        };
        if slug.is_empty() {
            return Err(Error::invalid("invalid_slug", "workspace slug is empty"));
        }
        if slug.len() > 64 {
            return Err(Error::invalid(
                "invalid_slug",
                "workspace slug is longer than 64 characters",
            ));
        }
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let mut ws = workspaces::insert(&tx, &name, &slug).await?;
                workspaces::add_member(&tx, &ws.id, &user_id, "owner").await?;
                ws.role = Some("owner".into());
                Ok(ws)
            })
            .await
    }

    /// A workspace the caller belongs to (404 otherwise).
    pub async fn get_workspace(&self, actor: &Actor, id: &str) -> Result<Workspace> {
        actor.require(super::scopes::WORKSPACES_READ)?;
        actor.require_workspace(id)?;
        let conn = self.store.reader().await?;
        workspaces::get_for(&conn, id, actor.id())
            .await?
            .ok_or_else(|| Error::not_found("workspace"))
    }

    /// Member directory, ordered by display name; `cursor` is the previous `next_cursor`.
    pub async fn list_members(
        &self,
        actor: &Actor,
        workspace_id: &str,
        query: &str,
        role: &str,
        cursor: &str,
        limit: Option<i64>,
    ) -> Result<MemberPage> {
        actor.require(super::scopes::WORKSPACES_READ)?;
        actor.require_workspace(workspace_id)?;
        let limit = clamp_limit(limit, 50, 200);
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        let after = if cursor.is_empty() {
            None
        } else {
            let decoded = hex::decode(cursor)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| {
                    s.split_once('\u{1f}')
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                })
                .ok_or_else(|| Error::invalid("invalid_cursor", "cursor is malformed"))?;
            Some(decoded)
        };
        let mut members = workspaces::members(
            &conn,
            workspace_id,
            query.trim(),
            role.trim(),
            after,
            limit + 1,
        )
        .await?;
        let has_more = members.len() as i64 > limit;
        members.truncate(limit as usize);
        let next_cursor = if has_more {
            members
                .last()
                .map(|m| hex::encode(format!("{}\u{1f}{}", m.user.display_name, m.user.id)))
        } else {
            None
        };
        let total_count = workspaces::member_count(&conn, workspace_id).await?;
        Ok(MemberPage {
            members,
            next_cursor,
            has_more,
            total_count,
        })
    }
}
