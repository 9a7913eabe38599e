//! The request/response client commands: login, logout, whoami, status, version,
//! workspaces, channels, send, messages list, threads, reactions, DMs, search, upload.
//! Output shapes: reference §14.8 and docs/agent-friendly-cli.md.

use super::args::{
    BodyArgs, DmSendArgs, LoginArgs, MessagesListArgs, ReactArgs, ReplyArgs, SearchArgs, SendArgs,
    ThreadOpenArgs, UploadArgs,
};
use super::config::{normalize_server, StoredConfig};
use super::error::{ClientError, Exit, Result};
use super::http::Api;
use super::output::{self, message_line, note, one_line, s, Mode};
use super::resolve::{self, list};
use super::{progress, Ctx, Wanted};
use clickclack_runtime::ids;
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// `version`: the version of this binary.
pub fn version(mode: Mode) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    match mode {
        Mode::Json => output::json(&json!({"version": version})),
        Mode::Plain => output::line(version),
        Mode::Human => output::line(&format!("clickclack {version}")),
    }
}

/// Prints `value` as JSON, the plain field, or the human text.
fn emit(ctx: &Ctx, value: &Value, plain: &str, human: &str) -> Result<()> {
    match ctx.mode {
        Mode::Json => output::json(value),
        Mode::Plain => output::line(plain),
        Mode::Human => output::line(human),
    }
}

/// Prints `value` as JSON, else the lines (plain and human alike).
fn emit_lines(ctx: &Ctx, value: &Value, lines: &[String]) -> Result<()> {
    match ctx.mode {
        Mode::Json => output::json(value),
        Mode::Plain | Mode::Human => lines.iter().try_for_each(|l| output::line(l)),
    }
}

/// Saves `config`, noting on stderr when it replaces another server's settings.
fn save_config(ctx: &Ctx, config: &StoredConfig) -> Result<()> {
    if let Some(old) = ctx.stored.as_ref().filter(|_| !ctx.stored_applies) {
        note(&format!(
            "note: replacing the stored settings for {} (one server is stored at a time)",
            old.server
        ));
    }
    config.save().map(|_| ())
}

// ---------------------------------------------------------------------------------------
// Session

/// `login --magic-token T`: consume the link, store the session for this server.
pub async fn login(ctx: &Ctx, args: LoginArgs) -> Result<()> {
    let token = args.magic_token.trim();
    if token.is_empty() {
        return Err(ClientError::usage("--magic-token is required"));
    }
    let answer = ctx
        .api
        .post(
            &["api", "auth", "magic", "consume"],
            &json!({"token": token}),
        )
        .await
        .map_err(|mut e| {
            // An unusable magic link is an authentication failure.
            if e.status == Some(400) {
                e.exit = Exit::Auth;
            }
            e
        })?;
    let session = s(&answer, "token").to_string();
    if session.is_empty() {
        return Err(ClientError::unexpected(
            "the server answered without a session token",
        ));
    }
    let store = !args.no_store && args.store != Some(false);
    if store {
        let here = ctx.stored_here();
        let explicit =
            |w: &Option<Wanted>| w.as_ref().filter(|w| w.explicit).map(|w| w.value.clone());
        let config = StoredConfig {
            server: ctx.server.clone(),
            token: Some(session.clone()),
            workspace: explicit(&ctx.workspace).or_else(|| here.and_then(|h| h.workspace.clone())),
            channel: explicit(&ctx.channel).or_else(|| here.and_then(|h| h.channel.clone())),
        };
        save_config(ctx, &config)?;
    }
    let user = answer.get("user").cloned().unwrap_or(Value::Null);
    emit(
        ctx,
        &answer,
        &session,
        &format!("logged in as {}", s(&user, "display_name")),
    )
}

/// `logout`: revoke the stored session on its server, delete the stored config.
pub async fn logout(ctx: &Ctx) -> Result<()> {
    let mut revoked = false;
    if let Some(stored) = &ctx.stored {
        if let Some(token) = &stored.token {
            let server = normalize_server(&stored.server);
            match Api::new(&server, Some(token.clone()), None, ctx.api.verbose()) {
                Ok(api) => match api.post(&["api", "auth", "logout"], &json!({})).await {
                    Ok(answer) => revoked = answer["revoked"].as_bool().unwrap_or(true),
                    Err(e) => note(&format!(
                        "warning: could not revoke the session on {server}: {e}"
                    )),
                },
                Err(e) => note(&format!("warning: {e}")),
            }
        }
    }
    let existed = StoredConfig::delete()?;
    emit(
        ctx,
        &json!({"logged_out": true, "revoked": revoked, "config_deleted": existed}),
        "logged_out",
        "logged out",
    )
}

/// `whoami`.
pub async fn whoami(ctx: &Ctx) -> Result<()> {
    let answer = ctx.api.get(&["api", "me"], &[]).await?;
    let user = &answer["user"];
    emit(
        ctx,
        &answer,
        s(user, "id"),
        &format!("{}\t{}", s(user, "id"), s(user, "display_name")),
    )
}

/// `status`: server, user, and the resolved workspace and channel.
pub async fn status(ctx: &Ctx) -> Result<()> {
    let me = ctx.api.get(&["api", "me"], &[]).await?;
    let user = me.get("user").cloned().unwrap_or(Value::Null);
    let (workspace, channel) = resolve::channel_if_any(ctx).await?;
    let value = json!({
        "server": ctx.server,
        "user": user,
        "workspace": workspace,
        "channel": channel,
    });
    match ctx.mode {
        Mode::Json => output::json(&value),
        Mode::Plain => Ok(()),
        Mode::Human => {
            let id = |v: &Option<Value>| {
                v.as_ref()
                    .map(|v| s(v, "id").to_string())
                    .unwrap_or_default()
            };
            output::line(&format!("server\t{}", ctx.server))?;
            output::line(&format!("user\t{}", s(&user, "id")))?;
            output::line(&format!("workspace\t{}", id(&workspace)))?;
            output::line(&format!("channel\t{}", id(&channel)))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Workspaces and channels

pub async fn workspaces_list(ctx: &Ctx) -> Result<()> {
    let all = resolve::workspaces(ctx).await?;
    let lines: Vec<String> = all
        .iter()
        .map(|w| format!("{}\t{}\t{}", s(w, "id"), s(w, "slug"), s(w, "name")))
        .collect();
    emit_lines(ctx, &json!({"workspaces": all}), &lines)
}

pub async fn workspaces_use(ctx: &Ctx, wanted: &str) -> Result<()> {
    let ws = resolve::workspace_named(ctx, wanted).await?;
    let id = s(&ws, "id").to_string();
    let here = ctx.stored_here();
    let config = StoredConfig {
        server: ctx.server.clone(),
        token: here.and_then(|h| h.token.clone()),
        workspace: Some(id.clone()),
        // A stored channel belongs to the old workspace.
        channel: here
            .filter(|h| h.workspace.as_deref() == Some(id.as_str()))
            .and_then(|h| h.channel.clone()),
    };
    save_config(ctx, &config)?;
    emit(
        ctx,
        &json!({"workspace": ws}),
        &id,
        &format!("using workspace {} ({id})", s(&ws, "name")),
    )
}

pub async fn workspaces_create(ctx: &Ctx, name: &str, slug: Option<&str>) -> Result<()> {
    let mut body = json!({"name": name});
    if let Some(slug) = slug {
        body["slug"] = json!(slug);
    }
    let answer = ctx.api.post(&["api", "workspaces"], &body).await?;
    let ws = &answer["workspace"];
    emit(
        ctx,
        &answer,
        s(ws, "id"),
        &format!("created workspace {} ({})", s(ws, "name"), s(ws, "id")),
    )
}

pub async fn channels_list(ctx: &Ctx) -> Result<()> {
    let ws = resolve::workspace(ctx).await?;
    let all = resolve::channels(ctx, s(&ws, "id")).await?;
    let lines: Vec<String> = all
        .iter()
        .map(|c| format!("{}\t{}\t{}", s(c, "id"), s(c, "name"), s(c, "kind")))
        .collect();
    emit_lines(ctx, &json!({"workspace": ws, "channels": all}), &lines)
}

pub async fn channels_use(ctx: &Ctx, wanted: &str) -> Result<()> {
    let wanted = Wanted {
        value: wanted.to_string(),
        explicit: true,
    };
    let (ws, channel) = resolve::channel_named(ctx, &wanted).await?;
    let here = ctx.stored_here();
    let config = StoredConfig {
        server: ctx.server.clone(),
        token: here.and_then(|h| h.token.clone()),
        workspace: Some(s(&ws, "id").to_string()),
        channel: Some(s(&channel, "id").to_string()),
    };
    save_config(ctx, &config)?;
    emit(
        ctx,
        &json!({"workspace": ws, "channel": channel}),
        s(&channel, "id"),
        &format!(
            "using #{} ({}) in {}",
            s(&channel, "name"),
            s(&channel, "id"),
            s(&ws, "name")
        ),
    )
}

pub async fn channels_create(ctx: &Ctx, name: &str, private: bool) -> Result<()> {
    let ws = resolve::workspace(ctx).await?;
    let kind = if private { "private" } else { "public" };
    let answer = ctx
        .api
        .post(
            &["api", "workspaces", s(&ws, "id"), "channels"],
            &json!({"name": name.trim().trim_start_matches('#'), "kind": kind}),
        )
        .await?;
    let channel = &answer["channel"];
    emit(
        ctx,
        &answer,
        s(channel, "id"),
        &format!("created #{} ({})", s(channel, "name"), s(channel, "id")),
    )
}

// ---------------------------------------------------------------------------------------
// Messages

/// The message body: `--body` (non-blank) > `--file` > `--stdin` > the words.
pub fn read_body(args: &BodyArgs, words: &[String]) -> Result<String> {
    let read_stdin = || {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| ClientError::usage(format!("cannot read standard input: {e}")))?;
        Ok::<_, ClientError>(text)
    };
    let body = if let Some(body) = args.body.as_ref().filter(|b| !b.trim().is_empty()) {
        body.clone()
    } else if let Some(path) = &args.file {
        if path.as_os_str() == "-" {
            read_stdin()?
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| ClientError::usage(format!("cannot read {}: {e}", path.display())))?
        }
    } else if args.stdin == Some(true) {
        read_stdin()?
    } else {
        words.join(" ")
    };
    if body.trim().is_empty() {
        return Err(ClientError::usage("message body is required"));
    }
    Ok(body)
}

/// The JSON of a message create: body, nonce (given or random) and the quote.
fn post_body(args: &BodyArgs, body: String) -> Value {
    let nonce = args
        .nonce
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("cli-{}", ids::random_base32(26)));
    let mut value = json!({"body": body, "nonce": nonce});
    if let Some(quoted) = args
        .reply_to
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        value["quoted_message_id"] = json!(quoted);
    }
    value
}

/// POSTs a create carrying a nonce; a network failure is retried once with the same
/// nonce, so the message is never posted twice.
async fn post_idempotent(ctx: &Ctx, segments: &[&str], body: &Value) -> Result<Value> {
    match ctx.api.post(segments, body).await {
        Err(e) if e.exit == Exit::Network => {
            note(&format!("warning: {e}; retrying once with the same nonce"));
            tokio::time::sleep(Duration::from_millis(500)).await;
            ctx.api.post(segments, body).await
        }
        other => other,
    }
}

/// `send` / `messages send`.
pub async fn send(ctx: &Ctx, args: SendArgs) -> Result<()> {
    let body = read_body(&args.body, &args.words)?;
    let (_, channel) = resolve::channel(ctx).await?;
    let answer = post_idempotent(
        ctx,
        &["api", "channels", s(&channel, "id"), "messages"],
        &post_body(&args.body, body),
    )
    .await?;
    let id = s(&answer["message"], "id");
    emit(
        ctx,
        &answer,
        id,
        &format!("sent {id} to #{}", s(&channel, "name")),
    )
}

/// `messages list`: `{"channel", "messages", …paging}`; lines `<seq>\t<id>\t<author>\t<body>`.
pub async fn messages_list(ctx: &Ctx, args: MessagesListArgs) -> Result<()> {
    let (_, channel) = resolve::channel(ctx).await?;
    let mut query = vec![("limit", args.limit.to_string())];
    if let Some(after) = args.after_seq {
        query.push(("after_seq", after.to_string()));
    }
    if let Some(before) = args.before_seq {
        query.push(("before_seq", before.to_string()));
    }
    let page = ctx
        .api
        .get(&["api", "channels", s(&channel, "id"), "messages"], &query)
        .await?;
    let messages = list(&page, "messages");
    let lines: Vec<String> = messages.iter().map(message_line).collect();
    let mut value = Map::new();
    value.insert("channel".into(), channel);
    value.insert("messages".into(), Value::Array(messages));
    for key in ["oldest_seq", "newest_seq", "has_older", "has_newer"] {
        if let Some(v) = page.get(key) {
            value.insert(key.into(), v.clone());
        }
    }
    emit_lines(ctx, &Value::Object(value), &lines)
}

// ---------------------------------------------------------------------------------------
// Threads and reactions

/// `threads open <msg>`: `{root, replies, thread_state}`.
pub async fn thread_open(ctx: &Ctx, args: ThreadOpenArgs) -> Result<()> {
    let answer = ctx
        .api
        .get(
            &["api", "messages", args.message.trim(), "thread"],
            &[("limit", args.limit.to_string())],
        )
        .await?;
    let root = &answer["root"];
    let mut lines = vec![format!("{}\t{}", s(root, "id"), one_line(s(root, "body")))];
    for reply in list(&answer, "replies") {
        let author = reply
            .get("author")
            .map(|a| s(a, "display_name"))
            .unwrap_or("");
        lines.push(format!(
            "{}\t{author}\t{}",
            s(&reply, "id"),
            one_line(s(&reply, "body"))
        ));
    }
    emit_lines(ctx, &answer, &lines)
}

/// `threads reply <msg>` / `reply <msg>`.
pub async fn thread_reply(ctx: &Ctx, args: ReplyArgs) -> Result<()> {
    let body = read_body(&args.body, &args.words)?;
    let root = args.message.trim();
    let answer = post_idempotent(
        ctx,
        &["api", "messages", root, "thread", "replies"],
        &post_body(&args.body, body),
    )
    .await?;
    let id = s(&answer["message"], "id");
    emit(ctx, &answer, id, &format!("replied {id} to {root}"))
}

/// `reactions add|remove <msg> <emoji>`.
pub async fn react(ctx: &Ctx, args: ReactArgs, add: bool) -> Result<()> {
    let message = args.message.trim();
    let emoji = args.emoji.trim();
    if emoji.is_empty() {
        return Err(ClientError::usage("an emoji is required"));
    }
    let answer = if add {
        ctx.api
            .post(
                &["api", "messages", message, "reactions"],
                &json!({"emoji": emoji}),
            )
            .await?
    } else {
        ctx.api
            .delete(&["api", "messages", message, "reactions", emoji])
            .await?
    };
    let changed = answer.get("event").is_some_and(|e| !e.is_null());
    let human = match (add, changed) {
        (true, true) => format!("reacted {emoji} to {message}"),
        (true, false) => format!("already reacted {emoji} to {message}"),
        (false, true) => format!("removed {emoji} from {message}"),
        (false, false) => format!("no {emoji} reaction of yours on {message}"),
    };
    emit(ctx, &answer, message, &human)
}

// ---------------------------------------------------------------------------------------
// Direct messages

fn member_names(conversation: &Value) -> String {
    list(conversation, "members")
        .iter()
        .map(|m| {
            let handle = s(m, "handle");
            if handle.is_empty() {
                s(m, "display_name").to_string()
            } else {
                format!("@{handle}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `dms list`: `{"workspace", "conversations"}`; lines `<id>\t<members>\t<unread>`.
pub async fn dms_list(ctx: &Ctx) -> Result<()> {
    let ws = resolve::workspace(ctx).await?;
    let answer = ctx
        .api
        .get(
            &["api", "dms"],
            &[("workspace_id", s(&ws, "id").to_string())],
        )
        .await?;
    let conversations = list(&answer, "conversations");
    let lines: Vec<String> = conversations
        .iter()
        .map(|c| {
            format!(
                "{}\t{}\t{}",
                s(c, "id"),
                member_names(c),
                c.get("unread_count").and_then(Value::as_i64).unwrap_or(0)
            )
        })
        .collect();
    emit_lines(
        ctx,
        &json!({"workspace": ws, "conversations": conversations}),
        &lines,
    )
}

/// A workspace member by `usr_…` id, `@handle`/handle, or display name.
async fn resolve_user(ctx: &Ctx, workspace_id: &str, wanted: &str) -> Result<Value> {
    let wanted = wanted.trim();
    let name = wanted.trim_start_matches('@');
    if name.is_empty() {
        return Err(ClientError::usage("a recipient is required"));
    }
    let mut query = vec![("limit", "200".to_string())];
    if !name.starts_with("usr_") {
        query.push(("q", name.to_string()));
    }
    let answer = ctx
        .api
        .get(&["api", "workspaces", workspace_id, "members"], &query)
        .await?;
    let users: Vec<Value> = list(&answer, "members")
        .into_iter()
        .filter_map(|m| m.get("user").cloned())
        .collect();
    let found = users
        .iter()
        .find(|u| s(u, "id") == name)
        .or_else(|| {
            users
                .iter()
                .find(|u| s(u, "handle").eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            users
                .iter()
                .find(|u| s(u, "display_name").eq_ignore_ascii_case(name))
        });
    match found {
        Some(user) => Ok(user.clone()),
        None if name.starts_with("usr_") => Ok(json!({"id": name})),
        None => Err(ClientError::not_found(format!(
            "user {wanted:?} not found in the workspace"
        ))),
    }
}

/// `dms send <user> [body…]`: open (or reuse) the 1:1, then post.
pub async fn dms_send(ctx: &Ctx, args: DmSendArgs) -> Result<()> {
    let body = read_body(&args.body, &args.words)?;
    let ws = resolve::workspace(ctx).await?;
    let ws_id = s(&ws, "id").to_string();
    let user = resolve_user(ctx, &ws_id, &args.to).await?;
    let opened = ctx
        .api
        .post(
            &["api", "dms"],
            &json!({"workspace_id": ws_id, "member_ids": [s(&user, "id")]}),
        )
        .await?;
    let conversation = opened.get("conversation").cloned().unwrap_or(Value::Null);
    let mut answer = post_idempotent(
        ctx,
        &["api", "dms", s(&conversation, "id"), "messages"],
        &post_body(&args.body, body),
    )
    .await?;
    let id = s(&answer["message"], "id").to_string();
    let to = match s(&user, "handle") {
        "" => match s(&user, "display_name") {
            "" => s(&user, "id").to_string(),
            name => name.to_string(),
        },
        handle => format!("@{handle}"),
    };
    if let Value::Object(map) = &mut answer {
        map.insert("conversation".into(), conversation);
    }
    emit(ctx, &answer, &id, &format!("sent {id} to {to}"))
}

// ---------------------------------------------------------------------------------------
// Search and uploads

/// `search <query…>`: `GET /api/search` in the workspace (and `--channel` when given).
pub async fn search(ctx: &Ctx, args: SearchArgs) -> Result<()> {
    let q = args.query.join(" ");
    if q.trim().is_empty() {
        return Err(ClientError::usage("a search query is required"));
    }
    let mut query = vec![("q", q)];
    if ctx.channel.as_ref().is_some_and(|c| c.explicit) {
        let (ws, channel) = resolve::channel(ctx).await?;
        query.push(("workspace_id", s(&ws, "id").to_string()));
        query.push(("channel_id", s(&channel, "id").to_string()));
    } else {
        let ws = resolve::workspace(ctx).await?;
        query.push(("workspace_id", s(&ws, "id").to_string()));
    }
    if let Some(limit) = args.limit {
        query.push(("limit", limit.to_string()));
    }
    if let Some(sort) = args.sort {
        query.push(("sort", sort));
    }
    let answer = ctx.api.get(&["api", "search"], &query).await.map_err(|e| {
        if e.is_missing_route() {
            ClientError::not_found(format!("search is not available on {}", ctx.api.server()))
        } else {
            e
        }
    })?;
    let lines: Vec<String> = list(&answer, "results")
        .iter()
        .map(|r| {
            let place = match s(r, "channel_name") {
                "" => "dm".to_string(),
                name => format!("#{name}"),
            };
            let author = r.get("author").map(|a| s(a, "display_name")).unwrap_or("");
            format!(
                "{}\t{place}\t{author}\t{}",
                s(r, "id"),
                one_line(s(r, "snippet"))
            )
        })
        .collect();
    emit_lines(ctx, &answer, &lines)
}

/// `upload FILE`: multipart `POST /api/uploads` (with a byte progress bar on a terminal).
pub async fn upload(ctx: &Ctx, args: UploadArgs) -> Result<()> {
    use futures::StreamExt;
    use tokio::io::AsyncReadExt;

    let path: &Path = &args.file;
    let meta = std::fs::metadata(path)
        .map_err(|e| ClientError::usage(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(ClientError::usage(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let len = meta.len();
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".to_string());
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let ws = resolve::workspace(ctx).await?;
    let ws_id = s(&ws, "id").to_string();

    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ClientError::usage(format!("cannot open {}: {e}", path.display())))?;
    let bar = progress::bytes(len, format!("uploading {filename}"));
    let chunks = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<Vec<u8>, std::io::Error>(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let counted = {
        let bar = bar.clone();
        chunks.inspect(move |chunk| {
            if let (Some(bar), Ok(bytes)) = (&bar, chunk) {
                bar.inc(bytes.len() as u64);
            }
        })
    };
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(counted), len)
            .file_name(filename.clone())
            .mime_str(mime.essence_str())
            .map_err(|e| ClientError::unexpected(format!("bad content type: {e}")))?;
    let form = reqwest::multipart::Form::new()
        .text("workspace_id", ws_id.clone())
        .part("file", part);
    let url = ctx
        .api
        .url_with(&["api", "uploads"], &[("workspace_id", ws_id)]);
    let request = ctx
        .api
        .request(Method::POST, url.clone())
        .multipart(form)
        .timeout(Duration::from_secs(3600));
    let outcome = ctx.api.execute("POST", &url, request).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let answer = outcome.map_err(|e| {
        if e.is_missing_route() || e.code.as_deref() == Some("uploads_unconfigured") {
            ClientError::not_found(format!("uploads are not available on {}", ctx.api.server()))
        } else {
            e
        }
    })?;
    let upload = &answer["upload"];
    let id = s(upload, "id");
    emit(
        ctx,
        &answer,
        id,
        &format!("uploaded {filename} ({len} bytes) as {id}"),
    )
}
