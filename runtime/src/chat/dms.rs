//! Direct conversations: create (canonical 1:1 reuse, groups always new), list with unread
//! counts, get, close/reopen for one member, and the DM timeline (page, post).

use super::messages::{replay, resolve_quote, QuoteScope};
use super::{access, Actor, Chat, MessagePage, NewPost, PageQuery, Posted};
use crate::model::DirectConversation;
use crate::store::events::{self, NewEvent};
use crate::store::messages::{self, NewMessage, Timeline};
use crate::store::{conversations, workspaces};
use crate::{Error, Result};
use libsql::Connection;
use serde_json::json;

/// Most members a conversation may have (the caller included).
pub const MAX_DM_MEMBERS: usize = 16;

/// A created or reused conversation.
#[derive(Debug, Clone)]
pub struct OpenedConversation {
    pub conversation: DirectConversation,
    /// False when an existing canonical 1:1 conversation was returned.
    pub created: bool,
}

/// Caller first, then `member_ids` trimmed, blanks and duplicates removed, order kept.
fn member_list(caller: &str, member_ids: &[String]) -> Result<Vec<String>> {
    let mut members = vec![caller.to_string()];
    for id in member_ids.iter().map(|id| id.trim()) {
        if !id.is_empty() && !members.iter().any(|m| m == id) {
            members.push(id.to_string());
        }
    }
    if members.len() < 2 {
        return Err(Error::invalid(
            "too_few_members",
            "direct conversation needs at least two members",
        ));
    }
    if members.len() > MAX_DM_MEMBERS {
        return Err(Error::invalid(
            "too_many_members",
            format!("direct conversation can have at most {MAX_DM_MEMBERS} members"),
        ));
    }
    Ok(members)
}

/// A conversation the caller belongs to, in a workspace the caller still belongs to:
/// returns its workspace id (404 otherwise).
async fn conversation_workspace(
    conn: &Connection,
    conversation_id: &str,
    user_id: &str,
) -> Result<String> {
    let workspace_id = access::visible_conversation(conn, conversation_id, user_id).await?;
    if workspaces::role(conn, &workspace_id, user_id)
        .await?
        .is_none()
    {
        return Err(Error::not_found("conversation"));
    }
    Ok(workspace_id)
}

/// The conversation as the caller sees it (after [`conversation_workspace`]).
async fn load(
    conn: &Connection,
    conversation_id: &str,
    user_id: &str,
) -> Result<DirectConversation> {
    conversations::get_for(conn, conversation_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("conversation"))
}

fn humans_only(actor: &Actor) -> Result<()> {
    if actor.user.kind == "bot" {
        return Err(Error::forbidden(
            "bot_forbidden",
            "bots cannot close or open direct conversations",
        ));
    }
    Ok(())
}

impl Chat {
    /// Creates a direct conversation of the caller and `member_ids`. Two members are
    /// canonical: an existing conversation of the pair is returned (and reopened for the
    /// caller) with `created: false`. Groups are always new. No event.
    pub async fn create_direct_conversation(
        &self,
        actor: &Actor,
        workspace_id: &str,
        member_ids: &[String],
    ) -> Result<OpenedConversation> {
        actor.require(super::scopes::DMS_WRITE)?;
        actor.require_workspace(workspace_id)?;
        let workspace_id = workspace_id.trim().to_string();
        if workspace_id.is_empty() {
            return Err(Error::invalid(
                "workspace_id_required",
                "workspace_id is required",
            ));
        }
        let members = member_list(actor.id(), member_ids)?;
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                access::member_role(&tx, &workspace_id, &user_id).await?;
                for member in &members[1..] {
                    if workspaces::role(&tx, &workspace_id, member)
                        .await?
                        .is_none()
                    {
                        return Err(Error::invalid(
                            "not_a_member",
                            format!("user {member} is not a member of this workspace"),
                        ));
                    }
                }
                let pair_key = (members.len() == 2)
                    .then(|| conversations::pair_key(&workspace_id, &members[0], &members[1]));
                if let Some(key) = &pair_key {
                    if let Some(existing) = conversations::by_pair_key(&tx, key).await? {
                        conversations::reopen_for(&tx, &existing, &user_id).await?;
                        return Ok(OpenedConversation {
                            conversation: load(&tx, &existing, &user_id).await?,
                            created: false,
                        });
                    }
                }
                let created =
                    conversations::insert(&tx, &workspace_id, pair_key.as_deref(), &members)
                        .await?;
                Ok(OpenedConversation {
                    conversation: load(&tx, &created.id, &user_id).await?,
                    created: true,
                })
            })
            .await
    }

    /// Open conversations of the caller in a workspace, oldest first, with read state.
    pub async fn list_direct_conversations(
        &self,
        actor: &Actor,
        workspace_id: &str,
    ) -> Result<Vec<DirectConversation>> {
        actor.require(super::scopes::DMS_READ)?;
        actor.require_workspace(workspace_id)?;
        let workspace_id = workspace_id.trim();
        if workspace_id.is_empty() {
            return Err(Error::invalid(
                "workspace_id_required",
                "workspace_id is required",
            ));
        }
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        conversations::list_open_with_reads(&conn, workspace_id, actor.id()).await
    }

    /// One conversation of the caller, closed or not.
    pub async fn get_direct_conversation(
        &self,
        actor: &Actor,
        conversation_id: &str,
    ) -> Result<DirectConversation> {
        actor.require(super::scopes::DMS_READ)?;
        let conn = self.store.reader().await?;
        conversation_workspace(&conn, conversation_id, actor.id()).await?;
        load(&conn, conversation_id, actor.id()).await
    }

    /// Hides a conversation for the caller only (idempotent). No event.
    pub async fn close_direct_conversation(
        &self,
        actor: &Actor,
        conversation_id: &str,
    ) -> Result<DirectConversation> {
        self.set_conversation_closed(actor, conversation_id, true)
            .await
    }

    /// Shows a closed conversation again for the caller (idempotent). No event.
    pub async fn open_direct_conversation(
        &self,
        actor: &Actor,
        conversation_id: &str,
    ) -> Result<DirectConversation> {
        self.set_conversation_closed(actor, conversation_id, false)
            .await
    }

    async fn set_conversation_closed(
        &self,
        actor: &Actor,
        conversation_id: &str,
        closed: bool,
    ) -> Result<DirectConversation> {
        let conversation_id = conversation_id.to_string();
        let user_id = actor.id().to_string();
        let bot_check = humans_only(actor);
        self.store
            .write(move |tx| async move {
                conversation_workspace(&tx, &conversation_id, &user_id).await?;
                bot_check?;
                if closed {
                    conversations::close_for(&tx, &conversation_id, &user_id).await?;
                } else {
                    conversations::reopen_for(&tx, &conversation_id, &user_id).await?;
                }
                load(&tx, &conversation_id, &user_id).await
            })
            .await
    }

    /// A window of a conversation's roots for a member.
    pub async fn list_direct_messages(
        &self,
        actor: &Actor,
        conversation_id: &str,
        query: &PageQuery,
    ) -> Result<MessagePage> {
        actor.require(super::scopes::DMS_READ)?;
        let (request, limit) = query.request()?;
        let conn = self.store.reader().await?;
        conversation_workspace(&conn, conversation_id, actor.id()).await?;
        self.read_page(
            &conn,
            Timeline::Direct(conversation_id),
            request,
            limit,
            actor.id(),
        )
        .await
    }

    /// Posts a root message to a conversation: per-conversation seq, thread state, reopens
    /// the conversation for every member, `message.created` private to the members.
    pub async fn post_direct_message(
        &self,
        actor: &Actor,
        conversation_id: &str,
        post: NewPost,
    ) -> Result<Posted> {
        actor.require(super::scopes::DMS_WRITE)?;
        super::messages::require_kind_scope(actor, &post)?;
        let post = self.clean_post(post)?;
        let conversation_id = conversation_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let workspace_id = conversation_workspace(&tx, &conversation_id, &user_id).await?;
                if let Some(replayed) = replay(&tx, &user_id, &post, |m| {
                    m.direct_conversation_id.as_deref() == Some(&conversation_id) && m.is_root()
                })
                .await?
                {
                    return Ok(replayed);
                }
                let quote = resolve_quote(
                    &tx,
                    post.quoted_message_id.as_deref(),
                    QuoteScope::Direct(&conversation_id),
                )
                .await?;
                let seq = messages::next_direct_seq(&tx, &conversation_id).await?;
                let message = messages::insert(
                    &tx,
                    NewMessage {
                        workspace_id: workspace_id.clone(),
                        direct_conversation_id: Some(conversation_id.clone()),
                        author_id: user_id.clone(),
                        channel_seq: Some(seq),
                        body: post.body,
                        kind: post.kind,
                        turn_id: post.turn_id,
                        nonce: post.nonce.clone(),
                        quoted_message_id: quote.as_ref().map(|q| q.0.clone()),
                        quoted_body_snapshot: quote.as_ref().map(|q| q.1.clone()),
                        quoted_author_id: quote.map(|q| q.2),
                        ..Default::default()
                    },
                )
                .await?;
                messages::insert_thread_state(&tx, &message.id).await?;
                conversations::reopen_all(&tx, &conversation_id).await?;
                let mut payload = json!({
                    "message_id": message.id,
                    "direct_conversation_id": conversation_id,
                    "author_id": user_id,
                });
                if let Some(n) = &post.nonce {
                    payload["nonce"] = json!(n);
                }
                super::mentions::annotate(&tx, &message, &mut payload).await?;
                let recipients = conversations::member_ids(&tx, &conversation_id).await?;
                let event = events::insert(
                    &tx,
                    NewEvent::public("message.created", &workspace_id, payload)
                        .seq(Some(seq))
                        .private_to(recipients),
                )
                .await?;
                let mut message = super::messages::fresh(&tx, message).await?;
                super::uploads::attach_to_new_message(
                    &tx,
                    &mut message,
                    &post.upload_ids,
                    &user_id,
                )
                .await?;
                Ok(Posted {
                    message,
                    event: Some(event),
                    created: true,
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_lists_put_the_caller_first_and_drop_blanks_and_duplicates() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            member_list("usr_a", &ids(&["", " usr_b ", "usr_b", "usr_a"])).unwrap(),
            ids(&["usr_a", "usr_b"])
        );
        assert_eq!(
            member_list("usr_a", &ids(&[" ", "usr_a"]))
                .unwrap_err()
                .code,
            "too_few_members"
        );
        let many: Vec<String> = (0..16).map(|i| format!("usr_{i}")).collect();
        assert_eq!(
            member_list("usr_a", &many).unwrap_err().code,
            "too_many_members"
        );
        assert_eq!(member_list("usr_a", &many[..15]).unwrap().len(), 16);
    }
}
