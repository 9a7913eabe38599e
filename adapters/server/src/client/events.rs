//! Following the workspace event log: `events tail` (JSON lines, cursor kept on disk) and
//! `messages tail` (new channel messages).
//!
//! [`Follower`] yields events one at a time over the WebSocket (`/api/realtime/ws`) when
//! the server offers it, else long-poll (`/api/realtime/events?wait=25`). It de-duplicates
//! by cursor (cursors strictly increase), reconnects with backoff after a drop, catches up
//! over HTTP after close code 4001 (backlog too large), and after 409 `resync_required`
//! (the cursor belongs to another epoch, e.g. a restored backup) continues from the
//! server's current tail with a warning on stderr.

use super::args::{EventsTailArgs, FollowArgs, MessagesTailArgs, Transport};
use super::config::{cursor_path, load_cursor, save_cursor};
use super::error::{ClientError, Exit, Result};
use super::http::{error_chain, http_error, Api, USER_HEADER};
use super::output::{self, message_line, note, s, Mode};
use super::{resolve, Ctx};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Long-poll wait per request (the server's maximum).
pub const POLL_WAIT_SECS: u64 = 25;
/// Events per HTTP page.
const PAGE: usize = 500;
/// WebSocket close code: backlog too large, resync over HTTP.
const CLOSE_RESYNC: u16 = 4001;
const MAX_BACKOFF: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The transport to use: `auto` asks `/api/capabilities` (WebSocket when it lists "ws").
pub async fn choose_transport(api: &Api, wanted: Transport) -> Transport {
    match wanted {
        Transport::Auto => match api.get(&["api", "capabilities"], &[]).await {
            Ok(caps) => {
                let ws = caps["transports"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|v| v == "ws"));
                if ws {
                    Transport::Ws
                } else {
                    Transport::Poll
                }
            }
            Err(_) => Transport::Poll,
        },
        other => other,
    }
}

/// The newest visible cursor of a workspace ("" when it has no events).
pub async fn tail_cursor(api: &Api, workspace_id: &str) -> Result<String> {
    let page = api
        .get(
            &["api", "realtime", "events"],
            &[
                ("workspace_id", workspace_id.to_string()),
                ("include_tail", "true".to_string()),
                ("limit", "1".to_string()),
            ],
        )
        .await?;
    Ok(s(&page, "tail_cursor").to_string())
}

/// Yields a workspace's events after a cursor, live.
pub struct Follower {
    api: Api,
    workspace_id: String,
    /// The cursor of the last event handed out (persist this one).
    pub cursor: String,
    /// The newest cursor queued (for de-duplication and reconnects).
    seen: String,
    transport: Transport,
    deadline: Option<Instant>,
    ephemeral: bool,
    socket: Option<Socket>,
    /// Whether the server has been reached at least once (later drops are retried).
    reached: bool,
    /// Paging over HTTP after a 4001 close, before reconnecting the socket.
    catching_up: bool,
    backoff: Duration,
    pending: VecDeque<Value>,
}

impl Follower {
    pub fn new(
        api: Api,
        workspace_id: String,
        cursor: String,
        transport: Transport,
        follow: &FollowArgs,
        ephemeral: bool,
    ) -> Follower {
        let deadline = follow
            .timeout
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| Instant::now() + Duration::from_secs_f64(t));
        Follower {
            api,
            workspace_id,
            seen: cursor.clone(),
            cursor,
            transport: if transport == Transport::Auto {
                Transport::Poll
            } else {
                transport
            },
            deadline,
            ephemeral,
            socket: None,
            reached: false,
            catching_up: false,
            backoff: Duration::from_millis(250),
            pending: VecDeque::new(),
        }
    }

    /// The next event, or `None` once the deadline has passed.
    pub async fn next(&mut self) -> Result<Option<Value>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                let cursor = s(&event, "cursor");
                if !cursor.is_empty() {
                    self.cursor = cursor.to_string();
                }
                return Ok(Some(event));
            }
            let remaining = match self.deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Ok(None);
                    }
                    Some(deadline - now)
                }
                None => None,
            };
            let step = if self.catching_up || self.transport == Transport::Poll {
                self.poll(remaining).await
            } else {
                self.ws_step(remaining).await
            };
            if let Err(e) = step {
                self.recover(e, remaining).await?;
            }
        }
    }

    /// Handles a failed step: resync, retry after a drop, or give up.
    async fn recover(&mut self, e: ClientError, remaining: Option<Duration>) -> Result<()> {
        if e.is_resync() {
            return self.resync(e.epoch.as_deref()).await;
        }
        let transient = e.exit == Exit::Network || e.status.is_some_and(|s| s >= 500);
        if !(transient && self.reached) {
            return Err(e);
        }
        note(&format!(
            "warning: {e}; reconnecting in {} ms",
            self.backoff.as_millis()
        ));
        let pause = match remaining {
            Some(r) => self.backoff.min(r),
            None => self.backoff,
        };
        tokio::time::sleep(pause).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        // At the deadline a server that is still unreachable is the outcome.
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(e);
        }
        Ok(())
    }

    /// The cursor belongs to another epoch: continue from the current tail.
    async fn resync(&mut self, epoch: Option<&str>) -> Result<()> {
        let tail = tail_cursor(&self.api, &self.workspace_id).await?;
        note(&format!(
            "warning: the server's event log was replaced (epoch {}); resuming from its current tail, events in between are not replayed",
            epoch.unwrap_or("unknown")
        ));
        self.pending.clear();
        self.socket = None;
        self.catching_up = false;
        self.seen = tail.clone();
        self.cursor = tail;
        Ok(())
    }

    /// Queues an event unless it is a duplicate (or an unwanted ephemeral one).
    fn queue(&mut self, event: Value) {
        let cursor = s(&event, "cursor").to_string();
        if cursor.is_empty() {
            if self.ephemeral {
                self.pending.push_back(event);
            }
            return;
        }
        if !self.seen.is_empty() && cursor.as_str() <= self.seen.as_str() {
            return;
        }
        self.seen = cursor;
        self.pending.push_back(event);
    }

    fn reached(&mut self) {
        self.reached = true;
        self.backoff = Duration::from_millis(250);
    }

    /// One pull: a long-poll (or, while catching up, an immediate page).
    async fn poll(&mut self, remaining: Option<Duration>) -> Result<()> {
        let wait = if self.catching_up {
            0
        } else {
            remaining.map_or(POLL_WAIT_SECS, |r| r.as_secs().min(POLL_WAIT_SECS))
        };
        let mut query = vec![
            ("workspace_id", self.workspace_id.clone()),
            ("limit", PAGE.to_string()),
            ("wait", wait.to_string()),
        ];
        if !self.seen.is_empty() {
            query.push(("after_cursor", self.seen.clone()));
        }
        let url = self.api.url_with(&["api", "realtime", "events"], &query);
        let started = Instant::now();
        let page = self
            .api
            .call(Method::GET, url, None, Some(Duration::from_secs(wait + 15)))
            .await?;
        self.reached();
        let events = resolve::list(&page, "events");
        let count = events.len();
        for event in events {
            self.queue(event);
        }
        if self.ephemeral {
            for event in resolve::list(&page, "ephemeral") {
                self.queue(event);
            }
        }
        if self.catching_up {
            if count < PAGE {
                self.catching_up = false;
            }
            return Ok(());
        }
        if count == 0 && self.pending.is_empty() {
            // A server that ignores `wait` (or a sub-second deadline) must not spin.
            let quick = started.elapsed() < Duration::from_millis(900);
            if quick {
                let pause = Duration::from_millis(if wait == 0 { 200 } else { 1000 });
                let pause = match remaining {
                    Some(r) => pause.min(r),
                    None => pause,
                };
                tokio::time::sleep(pause).await;
            }
        }
        Ok(())
    }

    /// One WebSocket step: connect if needed, then read one frame (or time out).
    async fn ws_step(&mut self, remaining: Option<Duration>) -> Result<()> {
        if self.socket.is_none() {
            let socket = self.connect(remaining).await?;
            self.socket = Some(socket);
            self.reached();
        }
        let Some(socket) = self.socket.as_mut() else {
            return Ok(());
        };
        let frame = match remaining {
            Some(r) => match tokio::time::timeout(r, socket.next()).await {
                Ok(frame) => frame,
                Err(_) => return Ok(()), // the deadline; `next` returns None
            },
            None => socket.next().await,
        };
        match frame {
            Some(Ok(Message::Text(text))) => {
                match serde_json::from_str::<Value>(text.as_str()) {
                    Ok(event) => self.queue(event),
                    Err(e) => note(&format!("warning: ignoring a frame that is not JSON: {e}")),
                }
                Ok(())
            }
            Some(Ok(Message::Close(frame))) => {
                self.socket = None;
                let code = frame.as_ref().map(|f| u16::from(f.code)).unwrap_or(1005);
                if code == CLOSE_RESYNC {
                    note("note: the server asked for a resync (backlog too large); catching up over HTTP");
                    self.catching_up = true;
                    return Ok(());
                }
                let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                Err(ClientError::network(format!(
                    "the server closed the event stream ({code}{}{reason})",
                    if reason.is_empty() { "" } else { ": " }
                )))
            }
            Some(Ok(_)) => Ok(()), // pings are answered by the library
            Some(Err(e)) => {
                self.socket = None;
                Err(ClientError::network(format!(
                    "event stream from {} failed: {}",
                    self.api.server(),
                    error_chain(&e)
                )))
            }
            None => {
                self.socket = None;
                Err(ClientError::network(format!(
                    "the event stream from {} ended",
                    self.api.server()
                )))
            }
        }
    }

    /// Opens `/api/realtime/ws?workspace_id=&after_cursor=` with the credentials.
    async fn connect(&self, remaining: Option<Duration>) -> Result<Socket> {
        let mut url = self.api.url_with(
            &["api", "realtime", "ws"],
            &[
                ("workspace_id", self.workspace_id.clone()),
                ("after_cursor", self.seen.clone()),
            ],
        );
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::usage("cannot build the WebSocket URL"))?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::usage(format!("bad WebSocket URL: {e}")))?;
        let headers = request.headers_mut();
        let header = |v: String| {
            HeaderValue::from_str(&v)
                .map_err(|_| ClientError::usage("the token or user id has invalid characters"))
        };
        if let Some(token) = self.api.token() {
            headers.insert("authorization", header(format!("Bearer {token}"))?);
        }
        if let Some(user) = self.api.user() {
            headers.insert(USER_HEADER, header(user.to_string())?);
        }
        headers.insert(
            "user-agent",
            HeaderValue::from_static(concat!("clickclack-cli/", env!("CARGO_PKG_VERSION"))),
        );
        if self.api.verbose() {
            eprintln!(
                "> GET {} (websocket)",
                url.as_str().split('?').next().unwrap_or("")
            );
        }
        let limit = remaining.map_or(super::http::TIMEOUT, |r| r.min(super::http::TIMEOUT));
        let connected =
            tokio::time::timeout(limit, tokio_tungstenite::connect_async(request)).await;
        match connected {
            Err(_) => Err(ClientError::network(format!(
                "connecting to {} timed out",
                self.api.server()
            ))),
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(tungstenite::Error::Http(response))) => {
                let status = StatusCode::from_u16(response.status().as_u16())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let json = response
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice::<Value>(b).ok());
                Err(http_error(status, json.as_ref()))
            }
            Ok(Err(tungstenite::Error::Url(e))) => {
                Err(ClientError::usage(format!("bad WebSocket URL: {e}")))
            }
            Ok(Err(e)) => Err(ClientError::network(format!(
                "cannot open the event stream on {}: {}",
                self.api.server(),
                error_chain(&e)
            ))),
        }
    }
}

/// `events tail`: every event as a JSON line, resuming from the stored cursor.
pub async fn events_tail(ctx: &Ctx, args: EventsTailArgs) -> Result<()> {
    let ws = resolve::workspace(ctx).await?;
    let workspace_id = s(&ws, "id").to_string();
    let path = cursor_path(&ctx.server, &workspace_id)?;
    let from_start = args.from_start == Some(true);
    let stored = if from_start { None } else { load_cursor(&path) };
    let (start, origin) = match stored {
        Some(cursor) => (cursor, "the stored cursor"),
        None if from_start => (String::new(), "the beginning"),
        None => (tail_cursor(&ctx.api, &workspace_id).await?, "now"),
    };
    let transport = choose_transport(&ctx.api, args.follow.transport).await;
    let mut follower = Follower::new(
        ctx.api.clone(),
        workspace_id.clone(),
        start.clone(),
        transport,
        &args.follow,
        args.ephemeral == Some(true),
    );
    note(&format!(
        "following events in {} ({workspace_id}) from {origin} over {}",
        s(&ws, "name"),
        if transport == Transport::Ws {
            "websocket"
        } else {
            "long-poll"
        }
    ));
    let mut saved = start;
    let mut printed = 0u64;
    if args.max_events == Some(0) {
        return Ok(());
    }
    while let Some(event) = follower.next().await? {
        match ctx.mode {
            Mode::Plain => {
                output::line(&format!("{}\t{}", s(&event, "cursor"), s(&event, "type")))?
            }
            Mode::Json | Mode::Human => output::json_line(&event)?,
        }
        if !s(&event, "cursor").is_empty() {
            printed += 1;
        }
        if follower.cursor != saved {
            save_cursor(&path, &follower.cursor)?;
            saved = follower.cursor.clone();
        }
        if args.max_events.is_some_and(|max| printed >= max) {
            break;
        }
    }
    if follower.cursor != saved {
        save_cursor(&path, &follower.cursor)?;
    }
    Ok(())
}

/// `messages tail`: new messages of the channel as they arrive (from now on).
pub async fn messages_tail(ctx: &Ctx, args: MessagesTailArgs) -> Result<()> {
    let (ws, channel) = resolve::channel(ctx).await?;
    let workspace_id = s(&ws, "id").to_string();
    let channel_id = s(&channel, "id").to_string();
    let replies = args.replies == Some(true);
    let start = tail_cursor(&ctx.api, &workspace_id).await?;
    let transport = choose_transport(&ctx.api, args.follow.transport).await;
    let mut follower = Follower::new(
        ctx.api.clone(),
        workspace_id,
        start,
        transport,
        &args.follow,
        false,
    );
    note(&format!(
        "watching #{} ({channel_id}) for new messages",
        s(&channel, "name")
    ));
    if args.max_messages == Some(0) {
        return Ok(());
    }
    let mut printed = 0u64;
    while let Some(event) = follower.next().await? {
        if s(&event, "channel_id") != channel_id {
            continue;
        }
        let kind = s(&event, "type");
        if kind != "message.created" && !(replies && kind == "thread.reply_created") {
            continue;
        }
        let message_id = s(&event["payload"], "message_id");
        if message_id.is_empty() {
            continue;
        }
        let message = match ctx.api.get(&["api", "messages", message_id], &[]).await {
            Ok(answer) => answer.get("message").cloned().unwrap_or(Value::Null),
            Err(e) if e.exit == Exit::NotFound => continue, // deleted meanwhile
            Err(e) => return Err(e),
        };
        match ctx.mode {
            Mode::Json => output::json_line(&message)?,
            Mode::Plain => output::line(s(&message, "id"))?,
            Mode::Human => output::line(&message_line(&message))?,
        }
        printed += 1;
        if args.max_messages.is_some_and(|max| printed >= max) {
            break;
        }
    }
    Ok(())
}
