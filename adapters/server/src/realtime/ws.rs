//! `GET /api/realtime/ws?workspace_id=&after_cursor=`: authenticate (bearer header, cookie,
//! or subprotocol `clickclack.bearer.<token>`, echoed back), check the Origin, subscribe to
//! the hub, drain the log from the cursor, then stay live. Each frame is one event JSON.
//! A backlog over 5,000 events closes with 4001 (resync over HTTP); a stalled consumer is
//! closed, never silently skipped; shutdown closes with 1001.

use super::hub::Batch;
use super::Hub;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use clickclack_handlers::extract::{AuthVia, Caller, Query};
use clickclack_handlers::origin::is_same_origin;
use clickclack_handlers::{ApiError, AppState};
use clickclack_runtime::chat::Actor;
use clickclack_runtime::store::events::Viewer;
use clickclack_runtime::Error;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Most events one drain may send before the socket is closed with 4001.
pub const MAX_BACKLOG: i64 = 5_000;
/// Close code telling the client to resync over HTTP.
pub const CLOSE_RESYNC: u16 = 4001;
/// Close code for a socket whose session or token was revoked, or whose user left the
/// workspace (checked at every ping).
pub const CLOSE_REVOKED: u16 = 4003;
const PAGE: i64 = 500;
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const PROTOCOL_PREFIX: &str = "clickclack.bearer.";
const READ_BUFFER: usize = 4 * 1024;

#[derive(Deserialize)]
struct WsQuery {
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    after_cursor: String,
}

fn bearer_protocol(request: &Request) -> Option<(String, String)> {
    request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| {
            p.strip_prefix(PROTOCOL_PREFIX)
                .map(|token| (p.to_string(), token.to_string()))
        })
}

/// The upgrade handler; errors before the upgrade are ordinary JSON responses.
pub async fn handler(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let hub = request
        .extensions()
        .get::<Arc<Hub>>()
        .cloned()
        .ok_or_else(|| Error::unavailable("realtime hub is not running"))?;
    let protocol = bearer_protocol(&request);
    let (mut parts, _body) = request.into_parts();
    let (actor, via) = match &protocol {
        Some((_, token)) => (
            state
                .chat()
                .bearer_actor(token)
                .await?
                .ok_or_else(Error::unauthenticated)?,
            AuthVia::Bearer(token.clone()),
        ),
        None => {
            let caller = Caller::from_request_parts(&mut parts, &state).await?;
            (caller.actor, caller.via)
        }
    };
    if !is_same_origin(&parts.headers, state.http().public_url.as_deref()) {
        return Err(Error::forbidden(
            "cross_site",
            "cross-site WebSocket connections are not allowed",
        )
        .into());
    }
    let Query(query) = Query::<WsQuery>::from_request_parts(&mut parts, &state).await?;
    let workspace_id = query.workspace_id.trim().to_string();
    if workspace_id.is_empty() {
        return Err(ApiError::invalid(
            "workspace_id_required",
            "workspace_id is required",
        ));
    }
    // Membership and cursor are checked before upgrading (404 / 400). A cursor from another
    // epoch upgrades and closes with 4001 at once: browsers cannot read a refused upgrade's
    // status, but they can read a close code.
    let resync = match state
        .chat()
        .pending_events(&actor, &workspace_id, &query.after_cursor, 0)
        .await
    {
        Ok(_) => false,
        Err(e) if e.code == "resync_required" => true,
        Err(e) => return Err(e.into()),
    };
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &state)
        .await
        .map_err(|_| {
            ApiError::invalid(
                "websocket_required",
                "this endpoint needs a WebSocket upgrade",
            )
        })?
        // Clients send nothing but control frames: a small read buffer keeps idle sockets
        // cheap (tungstenite preallocates 128 KiB by default).
        .read_buffer_size(READ_BUFFER);
    let upgrade = match protocol {
        Some((name, _)) => upgrade.protocols([name]),
        None => upgrade,
    };
    if resync {
        return Ok(upgrade
            .on_upgrade(|socket| async move {
                let (mut sink, _) = socket.split();
                close(
                    &mut sink,
                    CLOSE_RESYNC,
                    "cursor is from another epoch; resync over HTTP",
                )
                .await;
            })
            .into_response());
    }
    let cursor = query.after_cursor.trim().to_string();
    Ok(upgrade
        .on_upgrade(move |socket| {
            serve_socket(
                socket,
                state,
                hub,
                Grant { actor, via },
                workspace_id,
                cursor,
            )
        })
        .into_response())
}

enum Stop {
    /// The client went away or a write failed or stalled.
    Gone,
    /// Too much backlog: close with 4001.
    Resync,
}

/// Who the socket serves and how they signed in (re-checked while it stays open).
struct Grant {
    actor: Actor,
    via: AuthVia,
}

impl Grant {
    /// Whether the credential still works and the user still belongs to the workspace. A
    /// revoked session or bot token, or a removed member, stops receiving events.
    async fn still_valid(&self, state: &AppState, workspace_id: &str) -> bool {
        let chat = state.chat();
        let signed_in = match &self.via {
            AuthVia::Bearer(token) => chat.bearer_actor(token).await.is_ok_and(|a| a.is_some()),
            AuthVia::Cookie(token) => chat.session_user(token).await.is_ok_and(|u| u.is_some()),
            AuthVia::Dev => true,
        };
        signed_in
            && chat
                .pending_events(&self.actor, workspace_id, "", 0)
                .await
                .is_ok()
    }
}

/// Where a socket stands in the log.
struct Position {
    cursor: String,
    position: i64,
    ephemeral: i64,
}

async fn serve_socket(
    socket: WebSocket,
    state: AppState,
    hub: Arc<Hub>,
    grant: Grant,
    workspace_id: String,
    cursor: String,
) {
    let actor = &grant.actor;
    hub.socket_opened();
    // Subscribe first, then read the backlog: nothing committed in between can be missed.
    let mut batches = hub.subscribe(&workspace_id);
    let (mut sink, mut stream) = socket.split();
    let chat = state.chat();
    let mut at = Position {
        position: chat.cursor_position(&cursor).unwrap_or(0),
        cursor,
        ephemeral: chat.ephemeral_seq().await.unwrap_or(0),
    };
    let mut outcome = drain(&state, actor, &workspace_id, &mut at, &mut sink).await;
    let every = hub.ping_every();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    while outcome.is_ok() {
        tokio::select! {
            _ = hub.shutting_down() => {
                close(&mut sink, 1001, "server shutting down").await;
                break;
            }
            batch = batches.recv() => {
                outcome = match batch {
                    Ok(batch) if batch.after <= at.position => deliver(&batch, actor.viewer(), &mut at, &mut sink).await,
                    // A gap (or a lagging receiver): the log is the truth, read it.
                    Ok(batch) => match drain(&state, actor, &workspace_id, &mut at, &mut sink).await {
                        Ok(()) => deliver(&batch, actor.viewer(), &mut at, &mut sink).await,
                        stop => stop,
                    },
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        match drain(&state, actor, &workspace_id, &mut at, &mut sink).await {
                            Ok(()) => drain_ephemeral(&state, actor, &workspace_id, &mut at, &mut sink).await,
                            stop => stop,
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => Err(Stop::Gone),
                };
            }
            incoming = stream.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Ping(payload))) => {
                    if send(&mut sink, Message::Pong(payload)).await.is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if !grant.still_valid(&state, &workspace_id).await {
                    close(&mut sink, CLOSE_REVOKED, "access revoked").await;
                    break;
                }
                if send(&mut sink, Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
    if let Err(Stop::Resync) = outcome {
        close(
            &mut sink,
            CLOSE_RESYNC,
            "backlog too large; resync over HTTP",
        )
        .await;
    }
    hub.socket_closed();
}

/// Sends the part of a shared batch this socket has not seen and may see: the frames the
/// room serialized once, queued and then flushed together.
async fn deliver(
    batch: &Batch,
    viewer: Viewer<'_>,
    at: &mut Position,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let mut queued = false;
    let mut last = None;
    for shared in &batch.events {
        let logged = &shared.item;
        if logged.position <= at.position {
            continue;
        }
        if logged.visible_to(viewer) {
            feed(sink, Message::Text(shared.frame.clone())).await?;
            queued = true;
        }
        at.position = logged.position;
        last = Some(&logged.event.cursor);
    }
    if let Some(cursor) = last {
        at.cursor.clone_from(cursor);
    }
    for shared in &batch.ephemeral {
        let (seq, _, recipients) = &shared.item;
        if *seq <= at.ephemeral {
            continue;
        }
        if recipients
            .as_ref()
            .is_none_or(|r| r.iter().any(|u| u == viewer.user_id))
        {
            feed(sink, Message::Text(shared.frame.clone())).await?;
            queued = true;
        }
        at.ephemeral = *seq;
    }
    if queued {
        flush(sink).await?;
    }
    Ok(())
}

/// Writes out every queued frame.
async fn flush(sink: &mut Sink) -> Result<(), Stop> {
    match tokio::time::timeout(WRITE_TIMEOUT, sink.flush()).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Stop::Gone),
    }
}

/// Queues a frame without flushing (the caller flushes once per batch).
async fn feed(sink: &mut Sink, message: Message) -> Result<(), Stop> {
    match tokio::time::timeout(WRITE_TIMEOUT, sink.feed(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Stop::Gone),
    }
}

type Sink = futures::stream::SplitSink<WebSocket, Message>;

async fn send(sink: &mut Sink, message: Message) -> Result<(), Stop> {
    match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Stop::Gone),
    }
}

async fn close(sink: &mut Sink, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
}

/// Reads the log from the socket's own cursor and sends every visible event, advancing it;
/// more than [`MAX_BACKLOG`] waiting means the client must resync instead.
async fn drain(
    state: &AppState,
    actor: &Actor,
    workspace_id: &str,
    at: &mut Position,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let chat = state.chat();
    let pending = chat
        .pending_events(actor, workspace_id, &at.cursor, MAX_BACKLOG)
        .await
        .map_err(|_| Stop::Gone)?;
    if pending > MAX_BACKLOG {
        return Err(Stop::Resync);
    }
    loop {
        let page = chat
            .durable_events(actor, workspace_id, &at.cursor, PAGE)
            .await
            .map_err(|_| Stop::Gone)?;
        let full = page.len() as i64 == PAGE;
        let any = !page.is_empty();
        for (position, event) in page {
            let text = serde_json::to_string(&event).map_err(|_| Stop::Gone)?;
            feed(sink, Message::Text(text.into())).await?;
            at.position = position;
            at.cursor = event.cursor;
        }
        if any {
            flush(sink).await?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// Sends ephemeral events newer than the socket's ephemeral mark that the caller may see.
async fn drain_ephemeral(
    state: &AppState,
    actor: &Actor,
    workspace_id: &str,
    at: &mut Position,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let fresh = state
        .chat()
        .ephemeral_after(actor, workspace_id, at.ephemeral)
        .await
        .map_err(|_| Stop::Gone)?;
    for (seq, event) in fresh {
        let text = serde_json::to_string(&event).map_err(|_| Stop::Gone)?;
        send(sink, Message::Text(text.into())).await?;
        at.ephemeral = seq;
    }
    Ok(())
}
