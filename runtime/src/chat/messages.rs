//! Channel messages: post (with nonce replay and quotes), page, get, by-nonce, edit, delete.
//! The validation and quote helpers here are shared by threads and DMs.

use super::{access, clamp_limit, Actor, Chat};
use crate::model::{Event, Message};
use crate::store::events::{self, NewEvent};
use crate::store::messages::{self, NewMessage, PageRequest, Timeline};
use crate::store::rows::query_opt;
use crate::store::Tx;
use crate::{Error, Result};
use serde_json::json;

/// Input of every message create (channel, reply, DM, hooks).
#[derive(Debug, Clone, Default)]
pub struct NewPost {
    pub body: String,
    pub nonce: Option<String>,
    pub quoted_message_id: Option<String>,
    /// `agent_commentary` or `agent_tool` (bots); `None` for a normal message.
    pub kind: Option<String>,
    pub turn_id: Option<String>,
    /// Uploads to attach in the same transaction (`upload_ids`); with at least one, the
    /// body may be empty.
    pub upload_ids: Vec<String>,
}

/// A created (or replayed) message with the event it emitted.
#[derive(Debug, Clone)]
pub struct Posted {
    pub message: Message,
    /// The durable event; on a nonce replay the original event when still in the log.
    pub event: Option<Event>,
    /// False when a nonce replay returned an existing message.
    pub created: bool,
}

/// A window of a timeline (reference §21.8).
#[derive(Debug, Clone)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub oldest_seq: i64,
    pub newest_seq: i64,
    pub has_older: bool,
    pub has_newer: bool,
}

/// Paging parameters as given by the client.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub before_seq: Option<i64>,
    pub after_seq: Option<i64>,
    pub around_seq: Option<i64>,
    pub mode: Option<String>,
    pub limit: Option<i64>,
}

impl PageQuery {
    pub(crate) fn request(&self) -> Result<(PageRequest, i64)> {
        let bad = |why: &str| {
            Error::invalid(
                "invalid_page_request",
                format!("invalid message page request: {why}"),
            )
        };
        let cursors = [self.before_seq, self.after_seq, self.around_seq];
        if cursors.iter().flatten().count() > 1 {
            return Err(bad("use only one of before_seq, after_seq, around_seq"));
        }
        if cursors.iter().flatten().any(|s| *s < 0) {
            return Err(bad("sequence must not be negative"));
        }
        match self.mode.as_deref().map(str::trim) {
            None | Some("") => {}
            Some("latest") if cursors.iter().all(Option::is_none) => {}
            Some("latest") => return Err(bad("mode=latest cannot be combined with a cursor")),
            Some(_) => return Err(bad("mode must be latest")),
        }
        if matches!(self.limit, Some(l) if l < 0) {
            return Err(bad("limit must not be negative"));
        }
        let limit = clamp_limit(self.limit, 100, 200);
        let request = match (self.before_seq, self.after_seq, self.around_seq) {
            (Some(s), _, _) => PageRequest::Before(s),
            (_, Some(s), _) => PageRequest::After(s),
            (_, _, Some(s)) => PageRequest::Around(s),
            _ => PageRequest::Latest,
        };
        Ok((request, limit))
    }
}

/// Where a quoted message must live.
pub(crate) enum QuoteScope<'a> {
    Channel(&'a str),
    Direct(&'a str),
    Thread(&'a str),
}

/// Validated post fields.
pub(crate) struct CleanPost {
    pub body: String,
    pub nonce: Option<String>,
    pub quoted_message_id: Option<String>,
    pub kind: String,
    pub turn_id: Option<String>,
    pub upload_ids: Vec<String>,
}

/// Agent activity kinds (`agent_commentary`, `agent_tool`) need `agent_activity:write` from
/// a bot token, on top of the write scope of the target.
pub(crate) fn require_kind_scope(actor: &Actor, post: &NewPost) -> Result<()> {
    match post.kind.as_deref().map(str::trim) {
        None | Some("") | Some("message") => Ok(()),
        Some(_) => actor.require(super::scopes::AGENT_ACTIVITY_WRITE),
    }
}

impl Chat {
    pub(crate) fn clean_post(&self, post: NewPost) -> Result<CleanPost> {
        let body = post.body.trim().to_string();
        let upload_ids = super::uploads::clean_upload_ids(post.upload_ids)?;
        if body.is_empty() && upload_ids.is_empty() {
            return Err(Error::invalid("body_required", "message body is required"));
        }
        if body.chars().count() > self.config.max_body_chars {
            return Err(Error::too_large(
                "body_too_long",
                format!(
                    "message body is longer than {} characters",
                    self.config.max_body_chars
                ),
            ));
        }
        let nonce = match post.nonce.map(|n| n.trim().to_string()) {
            Some(n) if n.is_empty() => None,
            Some(n) if n.chars().count() > 128 => {
                return Err(Error::invalid(
                    "invalid_nonce",
                    "nonce is longer than 128 characters",
                ))
            }
            other => other,
        };
        let quoted_message_id = post
            .quoted_message_id
            .map(|q| q.trim().to_string())
            .filter(|q| !q.is_empty());
        let kind = match post.kind.as_deref().map(str::trim) {
            None | Some("") | Some("message") => "message".to_string(),
            Some(k @ ("agent_commentary" | "agent_tool")) => k.to_string(),
            Some(other) => {
                return Err(Error::invalid(
                    "invalid_kind",
                    format!("message kind {other:?} is not supported"),
                ))
            }
        };
        let turn_id = post
            .turn_id
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if turn_id.as_ref().is_some_and(|t| t.len() > 128) {
            return Err(Error::invalid(
                "invalid_turn_id",
                "turn_id is longer than 128 characters",
            ));
        }
        Ok(CleanPost {
            body,
            nonce,
            quoted_message_id,
            kind,
            turn_id,
            upload_ids,
        })
    }

    /// Posts a root message to a channel (also used by the Mattermost hooks).
    pub async fn post_channel_message(
        &self,
        actor: &Actor,
        channel_id: &str,
        post: NewPost,
    ) -> Result<Posted> {
        actor.require(super::scopes::MESSAGES_WRITE)?;
        require_kind_scope(actor, &post)?;
        let post = self.clean_post(post)?;
        let channel_id = channel_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (channel, _) = access::visible_channel(&tx, &channel_id, &user_id).await?;
                if let Some(replayed) = replay(&tx, &user_id, &post, |m| {
                    m.channel_id.as_deref() == Some(&channel_id) && m.is_root()
                })
                .await?
                {
                    return Ok(replayed);
                }
                if channel.archived_at.is_some() {
                    return Err(Error::conflict("channel_archived", "channel is archived"));
                }
                let quote = resolve_quote(
                    &tx,
                    post.quoted_message_id.as_deref(),
                    QuoteScope::Channel(&channel_id),
                )
                .await?;
                let seq = messages::next_channel_seq(&tx, &channel_id).await?;
                let message = messages::insert(
                    &tx,
                    NewMessage {
                        workspace_id: channel.workspace_id.clone(),
                        channel_id: Some(channel_id.clone()),
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
                let mut payload = json!({"message_id": message.id, "author_id": user_id});
                if let Some(n) = &post.nonce {
                    payload["nonce"] = json!(n);
                }
                super::mentions::annotate(&tx, &message, &mut payload).await?;
                let event = events::insert(
                    &tx,
                    NewEvent::public("message.created", &channel.workspace_id, payload)
                        .channel(Some(&channel_id))
                        .seq(Some(seq)),
                )
                .await?;
                let mut message = fresh(&tx, message).await?;
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

    /// A window of a channel's roots for the caller.
    pub async fn list_channel_messages(
        &self,
        actor: &Actor,
        channel_id: &str,
        query: &PageQuery,
    ) -> Result<MessagePage> {
        actor.require(super::scopes::MESSAGES_READ)?;
        let (request, limit) = query.request()?;
        let conn = self.store.reader().await?;
        access::visible_channel(&conn, channel_id, actor.id()).await?;
        self.read_page(
            &conn,
            Timeline::Channel(channel_id),
            request,
            limit,
            actor.id(),
        )
        .await
    }

    pub(crate) async fn read_page(
        &self,
        conn: &libsql::Connection,
        timeline: Timeline<'_>,
        request: PageRequest,
        limit: i64,
        viewer: &str,
    ) -> Result<MessagePage> {
        let mut page = messages::page(conn, timeline, request, limit).await?;
        messages::hydrate(conn, &mut page.messages, viewer).await?;
        let oldest_seq = page
            .messages
            .first()
            .and_then(|m| m.channel_seq)
            .unwrap_or(0);
        let newest_seq = page
            .messages
            .last()
            .and_then(|m| m.channel_seq)
            .unwrap_or(0);
        Ok(MessagePage {
            messages: page.messages,
            oldest_seq,
            newest_seq,
            has_older: page.has_older,
            has_newer: page.has_newer,
        })
    }

    /// One message the caller can see, hydrated.
    pub async fn get_message(&self, actor: &Actor, message_id: &str) -> Result<Message> {
        actor.require(super::scopes::MESSAGES_READ)?;
        let dm_gate = access::DmGate::new(actor, super::scopes::DMS_READ);
        let conn = self.store.reader().await?;
        let (mut message, _) = access::visible_message(&conn, message_id, actor.id()).await?;
        dm_gate.check(&message)?;
        messages::hydrate(&conn, std::slice::from_mut(&mut message), actor.id()).await?;
        Ok(message)
    }

    /// The caller's own message sent with `nonce` in a workspace: 404 when none, 409 when the
    /// nonce was used in another workspace.
    pub async fn message_by_nonce(
        &self,
        actor: &Actor,
        workspace_id: &str,
        nonce: &str,
    ) -> Result<Message> {
        actor.require(super::scopes::MESSAGES_READ)?;
        actor.require_workspace(workspace_id)?;
        let nonce = nonce.trim();
        if nonce.is_empty() {
            return Err(Error::invalid("nonce_required", "nonce is required"));
        }
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        let mut message = messages::by_nonce(&conn, actor.id(), nonce)
            .await?
            .ok_or_else(|| Error::not_found("message"))?;
        if message.workspace_id != workspace_id {
            return Err(Error::conflict(
                "nonce_other_workspace",
                "nonce was used in another workspace",
            ));
        }
        messages::hydrate(&conn, std::slice::from_mut(&mut message), actor.id()).await?;
        Ok(message)
    }

    /// Edits the caller's own message (403 for others, 409 once deleted).
    pub async fn edit_message(
        &self,
        actor: &Actor,
        message_id: &str,
        body: &str,
    ) -> Result<(Message, Event)> {
        actor.require(super::scopes::MESSAGES_WRITE)?;
        let dm_gate = access::DmGate::new(actor, super::scopes::DMS_WRITE);
        let body = body.trim().to_string();
        if body.is_empty() {
            return Err(Error::invalid("body_required", "message body is required"));
        }
        if body.chars().count() > self.config.max_body_chars {
            return Err(Error::too_large(
                "body_too_long",
                "message body is too long",
            ));
        }
        let message_id = message_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (message, _) = access::visible_message(&tx, &message_id, &user_id).await?;
                dm_gate.check(&message)?;
                if message.author_id != user_id {
                    return Err(Error::forbidden(
                        "author_required",
                        "only the author can edit a message",
                    ));
                }
                if message.deleted_at.is_some() {
                    return Err(Error::conflict("message_deleted", "message was deleted"));
                }
                messages::update_body(&tx, &message_id, &body).await?;
                let mut edited = message.clone();
                edited.body = body.clone();
                let mentioned = super::mentions::resolve(&tx, &edited).await?;
                let event =
                    message_event_mentioning(&tx, "message.updated", &message, &mentioned).await?;
                let mut updated = messages::get(&tx, &message_id)
                    .await?
                    .ok_or_else(|| Error::not_found("message"))?;
                messages::hydrate(&tx, std::slice::from_mut(&mut updated), &user_id).await?;
                Ok((updated, event))
            })
            .await
    }

    /// Soft-deletes a message: the author, or a workspace owner for channel messages.
    /// Idempotent: deleting again returns the message and no event.
    pub async fn delete_message(
        &self,
        actor: &Actor,
        message_id: &str,
    ) -> Result<(Message, Option<Event>)> {
        actor.require(super::scopes::MESSAGES_WRITE)?;
        let dm_gate = access::DmGate::new(actor, super::scopes::DMS_WRITE);
        let message_id = message_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (message, role) = access::visible_message(&tx, &message_id, &user_id).await?;
                dm_gate.check(&message)?;
                let owner_may = role == "owner" && message.channel_id.is_some();
                if message.author_id != user_id && !owner_may {
                    return Err(Error::forbidden(
                        "author_required",
                        "only the author or a workspace owner can delete a message",
                    ));
                }
                let event = if message.deleted_at.is_none() {
                    messages::soft_delete(&tx, &message_id).await?;
                    Some(message_event(&tx, "message.deleted", &message).await?)
                } else {
                    None
                };
                let mut deleted = messages::get(&tx, &message_id)
                    .await?
                    .ok_or_else(|| Error::not_found("message"))?;
                messages::hydrate(&tx, std::slice::from_mut(&mut deleted), &user_id).await?;
                Ok((deleted, event))
            })
            .await
    }
}

/// `message.updated|deleted` for any message kind; private for DM messages.
pub(crate) async fn message_event(tx: &Tx, kind: &'static str, message: &Message) -> Result<Event> {
    message_event_mentioning(tx, kind, message, &[]).await
}

/// [`message_event`] with `mentioned_user_ids` (omitted when empty).
async fn message_event_mentioning(
    tx: &Tx,
    kind: &'static str,
    message: &Message,
    mentioned: &[String],
) -> Result<Event> {
    let mut payload = json!({"message_id": message.id, "root_message_id": message.thread_root_id});
    if let Some(dm) = &message.direct_conversation_id {
        payload["direct_conversation_id"] = json!(dm);
    }
    if !mentioned.is_empty() {
        payload["mentioned_user_ids"] = json!(mentioned);
    }
    let mut event = NewEvent::public(kind, &message.workspace_id, payload)
        .channel(message.channel_id.as_deref())
        .seq(message.channel_seq);
    if let Some(recipients) = access::recipients_for(tx, message).await? {
        event = event.private_to(recipients);
    }
    events::insert(tx, event).await
}

/// Nonce replay: the same author, nonce, target, body and quote return the existing message
/// (`created: false`); any difference is 409.
pub(crate) async fn replay(
    tx: &Tx,
    user_id: &str,
    post: &CleanPost,
    same_target: impl Fn(&Message) -> bool,
) -> Result<Option<Posted>> {
    let Some(nonce) = &post.nonce else {
        return Ok(None);
    };
    let Some(mut existing) = messages::by_nonce(tx, user_id, nonce).await? else {
        return Ok(None);
    };
    let same = same_target(&existing)
        && existing.body == post.body
        && existing.quoted_message_id == post.quoted_message_id
        && existing.deleted_at.is_none();
    if !same {
        return Err(Error::conflict(
            "nonce_conflict",
            "client nonce was already used for a different message",
        ));
    }
    let event = query_opt(
        tx,
        "SELECT id, cursor, type, workspace_id, channel_id, seq, created_at, payload_json FROM events
         WHERE workspace_id = ?1 AND type IN ('message.created', 'thread.reply_created')
           AND json_extract(payload_json, '$.message_id') = ?2 ORDER BY position LIMIT 1",
        (existing.workspace_id.as_str(), existing.id.as_str()),
        |r| {
            let payload: String = r.get(7)?;
            Ok(Event {
                id: r.get(0)?,
                cursor: r.get(1)?,
                kind: r.get(2)?,
                workspace_id: r.get(3)?,
                channel_id: r.get(4)?,
                seq: r.get(5)?,
                created_at: r.get(6)?,
                payload: serde_json::from_str(&payload)?,
            })
        },
    )
    .await?;
    messages::hydrate(tx, std::slice::from_mut(&mut existing), user_id).await?;
    Ok(Some(Posted {
        message: existing,
        event,
        created: false,
    }))
}

/// Validates a quote: `(id, snapshot ≤ 280 chars, author)`; out of scope, unknown or
/// deleted quotes are 400.
pub(crate) async fn resolve_quote(
    tx: &Tx,
    quoted_id: Option<&str>,
    scope: QuoteScope<'_>,
) -> Result<Option<(String, String, String)>> {
    let Some(quoted_id) = quoted_id else {
        return Ok(None);
    };
    let out_of_scope = || {
        Error::invalid(
            "invalid_quote",
            "quoted message is not in this channel, conversation, or thread",
        )
    };
    let quoted = messages::get(tx, quoted_id)
        .await?
        .ok_or_else(out_of_scope)?;
    let in_scope = match scope {
        QuoteScope::Channel(id) => quoted.channel_id.as_deref() == Some(id) && quoted.is_root(),
        QuoteScope::Direct(id) => {
            quoted.direct_conversation_id.as_deref() == Some(id) && quoted.is_root()
        }
        QuoteScope::Thread(root) => quoted.thread_root_id == root,
    };
    if !in_scope || quoted.deleted_at.is_some() {
        return Err(out_of_scope());
    }
    let snapshot: String = quoted.body.trim().chars().take(280).collect();
    Ok(Some((quoted.id, snapshot, quoted.author_id)))
}

/// Completes a just-inserted message without re-reading what cannot exist yet: no
/// reactions, no attachments, a zero thread state for roots; only a quoted author is read.
pub(crate) async fn fresh(tx: &Tx, mut message: Message) -> Result<Message> {
    if message.is_root() {
        message.thread_state = Some(crate::model::ThreadState::empty(&message.id));
    }
    if let Some(author) = &message.quoted_author_id {
        message.quoted_author = crate::store::users::get(tx, author).await?;
    }
    Ok(message)
}
