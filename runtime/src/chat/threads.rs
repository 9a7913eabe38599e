//! Threads: read a root with a window of its replies, and reply (with nonce replay and
//! quotes). One level only: replies to replies are rejected. DM roots work like channel
//! roots; their replies carry the conversation and their events are private to its members.

use super::messages::{replay, resolve_quote, QuoteScope};
use super::{access, clamp_limit, Actor, Chat, NewPost};
use crate::model::{Event, Message, ThreadState};
use crate::store::channels;
use crate::store::events::{self, NewEvent};
use crate::store::messages::{self, NewMessage};
use crate::{Error, Result};
use serde_json::json;

/// A root with a window of its replies (`thread_seq` ascending).
#[derive(Debug, Clone)]
pub struct Thread {
    pub root: Message,
    pub replies: Vec<Message>,
    pub thread_state: ThreadState,
}

/// A created (or nonce-replayed) thread reply.
#[derive(Debug, Clone)]
pub struct ThreadReply {
    pub message: Message,
    pub thread_state: ThreadState,
    /// `thread.reply_created` then `thread.state_updated`; empty on a nonce replay.
    pub events: Vec<Event>,
    /// False when a nonce replay returned an existing reply.
    pub created: bool,
}

/// Which replies of a thread to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadQuery {
    /// Default 100, clamped to 200.
    pub limit: Option<i64>,
    /// The newest window (still oldest first) instead of the first replies.
    pub latest: bool,
}

impl Chat {
    /// A thread the caller can see: the root, a window of replies and the thread state.
    pub async fn get_thread(
        &self,
        actor: &Actor,
        root_id: &str,
        query: ThreadQuery,
    ) -> Result<Thread> {
        actor.require(super::scopes::THREADS_READ)?;
        let dm_gate = access::DmGate::new(actor, super::scopes::DMS_READ);
        let limit = clamp_limit(query.limit, 100, 200);
        let conn = self.store.reader().await?;
        let (root, _) = access::visible_message(&conn, root_id, actor.id()).await?;
        dm_gate.check(&root)?;
        if !root.is_root() {
            return Err(Error::invalid(
                "not_a_root",
                "thread root must be a root message",
            ));
        }
        let mut all = vec![root];
        all.extend(messages::replies(&conn, root_id, limit, query.latest).await?);
        messages::hydrate(&conn, &mut all, actor.id()).await?;
        let mut all = all.into_iter();
        let root = all
            .next()
            .ok_or_else(|| Error::internal("thread root vanished"))?;
        let replies: Vec<Message> = all.collect();
        let thread_state = root
            .thread_state
            .clone()
            .ok_or_else(|| Error::internal("thread root hydrated without thread state"))?;
        Ok(Thread {
            root,
            replies,
            thread_state,
        })
    }

    /// Replies to a root the caller can see. A retry with the same nonce returns the
    /// existing reply, the current thread state and no events.
    pub async fn post_thread_reply(
        &self,
        actor: &Actor,
        root_id: &str,
        post: NewPost,
    ) -> Result<ThreadReply> {
        actor.require(super::scopes::THREADS_WRITE)?;
        super::messages::require_kind_scope(actor, &post)?;
        let dm_gate = access::DmGate::new(actor, super::scopes::DMS_WRITE);
        let post = self.clean_post(post)?;
        let root_id = root_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (root, _) = access::visible_message(&tx, &root_id, &user_id).await?;
                dm_gate.check(&root)?;
                if !root.is_root() {
                    return Err(Error::invalid(
                        "nested_reply",
                        "nested thread replies are not supported",
                    ));
                }
                if let Some(replayed) = replay(&tx, &user_id, &post, |m| {
                    m.thread_root_id == root_id && !m.is_root()
                })
                .await?
                {
                    return Ok(ThreadReply {
                        message: replayed.message,
                        thread_state: messages::thread_state(&tx, &root_id).await?,
                        events: Vec::new(),
                        created: false,
                    });
                }
                if root.deleted_at.is_some() {
                    return Err(Error::conflict("message_deleted", "message was deleted"));
                }
                if let Some(channel_id) = &root.channel_id {
                    let channel = channels::get(&tx, channel_id)
                        .await?
                        .ok_or_else(|| Error::not_found("channel"))?;
                    if channel.archived_at.is_some() {
                        return Err(Error::conflict("channel_archived", "channel is archived"));
                    }
                }
                let quote = resolve_quote(
                    &tx,
                    post.quoted_message_id.as_deref(),
                    QuoteScope::Thread(&root_id),
                )
                .await?;
                let seq = messages::next_thread_seq(&tx, &root_id).await?;
                let message = messages::insert(
                    &tx,
                    NewMessage {
                        workspace_id: root.workspace_id.clone(),
                        channel_id: root.channel_id.clone(),
                        direct_conversation_id: root.direct_conversation_id.clone(),
                        author_id: user_id.clone(),
                        parent_message_id: Some(root_id.clone()),
                        thread_root_id: Some(root_id.clone()),
                        channel_seq: None,
                        thread_seq: Some(seq),
                        body: post.body,
                        kind: post.kind,
                        turn_id: post.turn_id,
                        nonce: post.nonce.clone(),
                        quoted_message_id: quote.as_ref().map(|q| q.0.clone()),
                        quoted_body_snapshot: quote.as_ref().map(|q| q.1.clone()),
                        quoted_author_id: quote.map(|q| q.2),
                    },
                )
                .await?;
                let thread_state =
                    messages::bump_thread_state(&tx, &root_id, &user_id, &message.created_at)
                        .await?;
                let recipients = access::recipients_for(&tx, &root).await?;
                let event = |kind: &'static str, mut payload: serde_json::Value| {
                    if let Some(dm) = &root.direct_conversation_id {
                        payload["direct_conversation_id"] = json!(dm);
                    }
                    let event = NewEvent::public(kind, &root.workspace_id, payload)
                        .channel(root.channel_id.as_deref());
                    match &recipients {
                        Some(users) => event.private_to(users.clone()),
                        None => event,
                    }
                };
                let mut created_payload = json!({
                    "message_id": message.id,
                    "root_message_id": root_id,
                    "author_id": user_id,
                });
                if let Some(n) = &post.nonce {
                    created_payload["nonce"] = json!(n);
                }
                super::mentions::annotate(&tx, &message, &mut created_payload).await?;
                let created =
                    events::insert(&tx, event("thread.reply_created", created_payload)).await?;
                let updated = events::insert(
                    &tx,
                    event("thread.state_updated", json!({"root_message_id": root_id})),
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
                Ok(ThreadReply {
                    message,
                    thread_state,
                    events: vec![created, updated],
                    created: true,
                })
            })
            .await
    }
}
