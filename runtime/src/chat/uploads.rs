//! Uploads (reference §9, §21.4; decisions §2.6, §4): streamed creates with a hard cap and
//! a per-user quota per workspace, retry-safe nonces, presigned direct uploads on S3,
//! downloads with visibility rules, and attachments (explicit, or `upload_ids` on create).
//!
//! Rules:
//! - Membership is checked before any byte is written, and again in the transaction that
//!   records the upload; whenever a later step fails the object is deleted (no orphans).
//! - The stored content type goes through [`safe_content_type`]; `storage_path` (the object
//!   key) never leaves the runtime.
//! - Who may download: members of the upload's workspace while it is attached to nothing;
//!   once attached, only callers who can see one of its live (not deleted) messages — so a
//!   file sent only in a DM is private to the DM, and one whose messages were all deleted
//!   is gone (404).

use super::{access, Actor, Chat};
use crate::model::{Event, Message, Upload};
use crate::store::rows::{is_unique_violation, query_all, query_i64, query_opt};
use crate::store::uploads::{attachment_from_row, ATTACHMENT_COLUMNS};
use crate::store::{messages, Tx};
use crate::uploads::{
    image_dimensions, ObjectHeaders, ObjectRead, SignedMethod, UploadStore, Written,
    IMAGE_HEADER_BYTES,
};
use crate::{ids, Error, ErrorKind, Result};
use bytes::Bytes;
use futures::Stream;
use libsql::{Connection, Row, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

/// Default hard cap of one upload (decisions §2.6).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 64 * 1024 * 1024;
/// Default per-user upload quota in one workspace.
pub const DEFAULT_UPLOAD_QUOTA_BYTES: u64 = 1024 * 1024 * 1024;
/// Longest stored file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;
/// Most uploads one message create may attach.
pub const MAX_UPLOADS_PER_MESSAGE: usize = 10;
/// Longest upload nonce, in characters.
pub const MAX_NONCE_CHARS: usize = 128;
/// How long a presigned PUT stays valid.
pub const PRESIGNED_PUT_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a presigned GET (download redirect) stays valid.
pub const PRESIGNED_GET_TTL: Duration = Duration::from_secs(5 * 60);

/// The type every disallowed content type is stored and served as.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// An upload as clients see it (`{"upload": …}`): never the storage key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadDetails {
    pub id: String,
    pub workspace_id: String,
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
    pub byte_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// `ready`, or `pending` for a presigned upload not completed yet.
    pub status: String,
    pub created_at: String,
}

/// What a client says about a new upload.
#[derive(Debug, Clone, Default)]
pub struct NewUpload {
    pub workspace_id: String,
    /// The client's file name (any path is dropped).
    pub filename: Option<String>,
    /// The declared type; anything off the allow-list is stored as `application/octet-stream`.
    pub content_type: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Retry key: the same caller, workspace and nonce return the first upload.
    pub nonce: Option<String>,
}

/// Metadata that may arrive after the bytes (multipart fields after the file part).
#[derive(Debug, Clone, Default)]
pub struct UploadExtras {
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    pub nonce: Option<String>,
}

/// A created (or replayed) upload.
#[derive(Debug, Clone)]
pub struct CreatedUpload {
    pub upload: UploadDetails,
    /// False when a nonce replay returned an existing upload.
    pub created: bool,
}

/// The first step of a streamed upload.
#[derive(Debug)]
pub enum UploadStart {
    /// The nonce was used before in this workspace: here is that upload; send no bytes.
    Replayed(UploadDetails),
    /// Authorized: stream the bytes with [`Chat::write_upload`], then
    /// [`Chat::finish_upload`] (or [`Chat::discard_upload`]).
    Ready(UploadDraft),
}

/// An authorized upload whose bytes are being written. Holds the object key; dropping it
/// after a write without finishing leaves an object behind, so call
/// [`Chat::discard_upload`].
#[derive(Debug)]
pub struct UploadDraft {
    id: String,
    workspace_id: String,
    owner_id: String,
    key: String,
    filename: String,
    content_type: String,
    width: Option<i64>,
    height: Option<i64>,
    duration_ms: Option<i64>,
    nonce: Option<String>,
    /// Most bytes this write may store: the cap, or what is left of the quota.
    limit: u64,
    quota_binds: bool,
    written: Option<u64>,
    /// The first bytes of the file (up to [`IMAGE_HEADER_BYTES`]) for image dimensions.
    head: Vec<u8>,
}

impl UploadDraft {
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
    /// Bytes written so far (after [`Chat::write_upload`]).
    pub fn written(&self) -> Option<u64> {
        self.written
    }
}

/// A presigned direct upload (`POST /api/uploads/presign`).
#[derive(Debug, Clone)]
pub struct PresignedUpload {
    pub upload: UploadDetails,
    /// Where to `PUT` the bytes; `None` when a replayed upload is already complete.
    pub url: Option<String>,
    pub method: &'static str,
    /// Headers the `PUT` must carry so the stored object serves safely.
    pub headers: BTreeMap<String, String>,
    pub expires_at: Option<String>,
    pub created: bool,
}

/// An upload the caller may download.
#[derive(Debug, Clone)]
pub struct UploadDownload {
    pub upload: UploadDetails,
    key: String,
    direct: bool,
}

impl UploadDownload {
    /// `Content-Type` to answer with (the stored type through the allow-list again).
    pub fn content_type(&self) -> String {
        safe_content_type(Some(&self.upload.content_type))
    }
    /// `Content-Disposition`: `inline` for the allow-listed types, else `attachment`.
    pub fn content_disposition(&self) -> String {
        content_disposition(&self.upload.content_type, &self.upload.filename)
    }
}

/// An explicit attach (`POST /api/messages/{id}/attachments`).
#[derive(Debug, Clone)]
pub struct Attached {
    pub message: Message,
    /// `message.updated`; `None` when the upload was attached already.
    pub event: Option<Event>,
}

/// The allow-listed type for `declared` (parameters dropped, lowercased):
/// image/png|jpeg|gif|webp, video/mp4|webm, audio/*, text/plain, application/pdf; anything
/// else (text/html and SVG included) is `application/octet-stream`.
pub fn safe_content_type(declared: Option<&str>) -> String {
    let essence = declared
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let allowed = matches!(
        essence.as_str(),
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "video/mp4"
            | "video/webm"
            | "text/plain"
            | "application/pdf"
    ) || essence.strip_prefix("audio/").is_some_and(|sub| {
        !sub.is_empty()
            && sub
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    });
    if allowed {
        essence
    } else {
        OCTET_STREAM.to_string()
    }
}

/// True when a stored type may be shown inline by browsers.
pub fn is_inline(content_type: &str) -> bool {
    safe_content_type(Some(content_type)) != OCTET_STREAM
}

/// `inline|attachment; filename="ascii"; filename*=UTF-8''percent-encoded`.
pub fn content_disposition(content_type: &str, filename: &str) -> String {
    let kind = if is_inline(content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = filename
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The base name of a client file name without control or bidi-override characters,
/// at most [`MAX_FILENAME_CHARS`] (the extension is kept); `upload.bin` when nothing is left.
pub fn clean_filename(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return "upload.bin".to_string();
    }
    let count = cleaned.chars().count();
    if count <= MAX_FILENAME_CHARS {
        return cleaned.to_string();
    }
    match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && (1..=16).contains(&ext.chars().count()) => {
            let keep = MAX_FILENAME_CHARS - ext.chars().count() - 1;
            format!("{}.{ext}", stem.chars().take(keep).collect::<String>())
        }
        _ => cleaned.chars().take(MAX_FILENAME_CHARS).collect(),
    }
}

fn clean_nonce(nonce: Option<String>) -> Result<Option<String>> {
    match nonce.map(|n| n.trim().to_string()) {
        Some(n) if n.is_empty() => Ok(None),
        Some(n) if n.chars().count() > MAX_NONCE_CHARS => Err(Error::invalid(
            "invalid_nonce",
            format!("nonce is longer than {MAX_NONCE_CHARS} characters"),
        )),
        other => Ok(other),
    }
}

fn check_dimension(name: &str, value: Option<i64>) -> Result<Option<i64>> {
    match value {
        Some(v) if v < 0 => Err(Error::invalid(
            "invalid_upload_metadata",
            format!("{name} must be a non-negative integer"),
        )),
        other => Ok(other),
    }
}

fn too_large(limit: u64) -> Error {
    Error::too_large(
        "upload_too_large",
        format!("upload is larger than {limit} bytes"),
    )
}

fn quota_exceeded() -> Error {
    Error::too_large(
        "upload_quota_exceeded",
        "upload quota for this workspace is exhausted",
    )
}

fn unconfigured() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "uploads_unconfigured",
        "uploads are not configured",
    )
}

fn now_ms() -> i64 {
    crate::clock::now().timestamp_millis()
}

/// `ready` or `pending`; a row the sweep marked `deleting` is treated as gone.
fn is_live_status(status: &str) -> bool {
    matches!(status, "ready" | "pending")
}

/// Types whose dimensions the server reads from the file ([`image_dimensions`]).
fn is_image_type(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// Replaces the client's width and height by the ones in the file's header when it parses.
fn apply_image_dimensions(details: &mut UploadDetails, head: &[u8]) {
    if !is_image_type(&details.content_type) {
        return;
    }
    if let Some((w, h)) = image_dimensions(head) {
        details.width = Some(i64::from(w));
        details.height = Some(i64::from(h));
    }
}

/// The first `n` bytes of an object; empty when it cannot be read (dimensions are then
/// left as the client sent them).
async fn read_head(store: &UploadStore, key: &str, n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(read) = store.read(key, Some(0..n)).await else {
        return out;
    };
    let mut stream = read.stream;
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        match chunk {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(_) => return Vec::new(),
        }
    }
    out
}

// ---- SQL -----------------------------------------------------------------------------

const COLUMNS: &str = "id, workspace_id, owner_id, filename, content_type, byte_size, width, height,
    duration_ms, status, created_at, storage_path, client_nonce, direct_download, pending_expires_at_ms";

/// A row of `uploads`.
#[derive(Debug, Clone)]
struct UploadRow {
    details: UploadDetails,
    key: String,
    direct_download: bool,
    expires_at_ms: Option<i64>,
}

fn row_from(r: &Row) -> Result<UploadRow> {
    Ok(UploadRow {
        details: UploadDetails {
            id: r.get(0)?,
            workspace_id: r.get(1)?,
            owner_id: r.get(2)?,
            filename: r.get(3)?,
            content_type: r.get(4)?,
            byte_size: r.get(5)?,
            width: r.get(6)?,
            height: r.get(7)?,
            duration_ms: r.get(8)?,
            status: r.get(9)?,
            created_at: r.get(10)?,
        },
        key: r.get(11)?,
        direct_download: r.get::<i64>(13)? != 0,
        expires_at_ms: r.get(14)?,
    })
}

async fn get_row(conn: &Connection, id: &str) -> Result<Option<UploadRow>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM uploads WHERE id = ?1"),
        [id],
        row_from,
    )
    .await
}

async fn row_by_nonce(conn: &Connection, owner_id: &str, nonce: &str) -> Result<Option<UploadRow>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM uploads WHERE owner_id = ?1 AND client_nonce = ?2"),
        (owner_id, nonce),
        row_from,
    )
    .await
}

/// Bytes counted against a user's quota in a workspace: ready uploads plus pending ones
/// whose presigned URL is still alive, except `except_id`.
async fn quota_used(
    conn: &Connection,
    workspace_id: &str,
    owner_id: &str,
    except_id: &str,
) -> Result<u64> {
    let used = query_i64(
        conn,
        "SELECT COALESCE(SUM(byte_size), 0) FROM uploads
         WHERE workspace_id = ?1 AND owner_id = ?2 AND id != ?3
           AND (status = 'ready' OR pending_expires_at_ms > ?4)",
        (workspace_id, owner_id, except_id, now_ms()),
    )
    .await?;
    Ok(used.max(0) as u64)
}

struct InsertUpload<'a> {
    details: &'a UploadDetails,
    key: &'a str,
    nonce: Option<&'a str>,
    direct_download: bool,
    expires_at_ms: Option<i64>,
}

async fn insert_row(conn: &Connection, new: InsertUpload<'_>) -> Result<()> {
    let d = new.details;
    conn.execute(
        "INSERT INTO uploads (id, workspace_id, owner_id, filename, content_type, byte_size,
            storage_path, created_at, width, height, duration_ms, client_nonce, status,
            pending_expires_at_ms, direct_download)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        vec![
            Value::from(d.id.clone()),
            Value::from(d.workspace_id.clone()),
            Value::from(d.owner_id.clone()),
            Value::from(d.filename.clone()),
            Value::from(d.content_type.clone()),
            Value::from(d.byte_size),
            Value::from(new.key.to_string()),
            Value::from(d.created_at.clone()),
            Value::from(d.width),
            Value::from(d.height),
            Value::from(d.duration_ms),
            Value::from(new.nonce.map(str::to_string)),
            Value::from(d.status.clone()),
            Value::from(new.expires_at_ms),
            Value::from(new.direct_download as i64),
        ],
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::conflict(
                "nonce_conflict",
                "upload nonce was already used for a different upload",
            )
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// True when `user_id` (a member of the upload's workspace) may see the upload: nothing
/// attached, or one of its live messages is visible to them. Its owner sees it while any
/// of its messages lives (someone else may have attached it to a DM the owner is not in).
async fn upload_visible(conn: &Connection, upload: &UploadDetails, user_id: &str) -> Result<bool> {
    let attached: Vec<(String, Option<String>)> = query_all(
        conn,
        "SELECT m.id, m.deleted_at FROM message_attachments a JOIN messages m ON m.id = a.message_id
         WHERE a.upload_id = ?1",
        [upload.id.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .await?;
    if attached.is_empty() {
        return Ok(true);
    }
    let owner = upload.owner_id == user_id;
    for (message_id, deleted_at) in attached {
        if deleted_at.is_some() {
            continue;
        }
        if owner {
            return Ok(true);
        }
        match access::visible_message(conn, &message_id, user_id).await {
            Ok(_) => return Ok(true),
            Err(e) if e.kind == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// A ready upload `user_id` may see, else 404.
async fn visible_row(conn: &Connection, upload_id: &str, user_id: &str) -> Result<UploadRow> {
    let row = get_row(conn, upload_id)
        .await?
        .filter(|r| r.details.status == "ready")
        .ok_or_else(|| Error::not_found("upload"))?;
    access::member_role(conn, &row.details.workspace_id, user_id)
        .await
        .map_err(|_| Error::not_found("upload"))?;
    if !upload_visible(conn, &row.details, user_id).await? {
        return Err(Error::not_found("upload"));
    }
    Ok(row)
}

/// Attaches `upload_id` to `message` after the checks (ready, visible to the caller, same
/// workspace). Returns false when it was attached already.
async fn attach_checked(
    tx: &Tx,
    message: &Message,
    upload_id: &str,
    user_id: &str,
) -> Result<bool> {
    let row = get_row(tx, upload_id)
        .await?
        .filter(|r| r.details.status == "ready")
        .ok_or_else(|| Error::not_found("upload"))?;
    access::member_role(tx, &row.details.workspace_id, user_id)
        .await
        .map_err(|_| Error::not_found("upload"))?;
    if row.details.workspace_id != message.workspace_id {
        return Err(Error::invalid(
            "upload_workspace_mismatch",
            "upload and message workspaces differ",
        ));
    }
    if !upload_visible(tx, &row.details, user_id).await? {
        return Err(Error::not_found("upload"));
    }
    Ok(tx
        .execute(
            "INSERT OR IGNORE INTO message_attachments (message_id, upload_id, created_at)
             VALUES (?1, ?2, ?3)",
            (message.id.as_str(), upload_id, crate::clock::now_string()),
        )
        .await?
        > 0)
}

/// The attachments of a message in attach order (what `hydrate` would return).
async fn attachments_of(conn: &Connection, message_id: &str) -> Result<Vec<Upload>> {
    query_all(
        conn,
        &format!(
            "SELECT {ATTACHMENT_COLUMNS}
             FROM message_attachments a JOIN uploads u ON u.id = a.upload_id
             WHERE a.message_id = ?1 ORDER BY a.created_at, a.rowid"
        ),
        [message_id],
        |r| attachment_from_row(r, 0),
    )
    .await
}

/// `upload_ids` of a message create: trimmed, blanks dropped, de-duplicated, at most
/// [`MAX_UPLOADS_PER_MESSAGE`].
pub(crate) fn clean_upload_ids(ids: Vec<String>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.trim().to_string();
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > MAX_UPLOADS_PER_MESSAGE {
        return Err(Error::invalid(
            "too_many_uploads",
            format!("a message can carry at most {MAX_UPLOADS_PER_MESSAGE} uploads"),
        ));
    }
    Ok(out)
}

/// Attaches `upload_ids` to a message created in the same transaction (channel, DM and
/// thread creates call this) and fills its `attachments`.
pub(crate) async fn attach_to_new_message(
    tx: &Tx,
    message: &mut Message,
    upload_ids: &[String],
    user_id: &str,
) -> Result<()> {
    if upload_ids.is_empty() {
        return Ok(());
    }
    for upload_id in upload_ids {
        attach_checked(tx, message, upload_id, user_id).await?;
    }
    message.attachments = attachments_of(tx, &message.id).await?;
    Ok(())
}

enum Recorded {
    Inserted(UploadDetails),
    Replayed(UploadDetails),
}

/// The transaction of a completion: the ready upload, or its row was dropped because the
/// quota no longer fits (the object is deleted after the commit).
enum Completed {
    Ready(Box<UploadDetails>),
    QuotaExceeded,
}

impl Chat {
    /// The configured upload store, or 503 `uploads_unconfigured`.
    fn upload_store(&self) -> Result<&UploadStore> {
        self.uploads.as_ref().ok_or_else(unconfigured)
    }

    /// A replay of `nonce` by the caller: `Some(upload)` in `workspace_id`, 409 elsewhere.
    async fn replay_upload(
        conn: &Connection,
        owner_id: &str,
        workspace_id: &str,
        nonce: Option<&str>,
    ) -> Result<Option<UploadRow>> {
        let Some(nonce) = nonce else {
            return Ok(None);
        };
        match row_by_nonce(conn, owner_id, nonce).await? {
            Some(row) if row.details.workspace_id == workspace_id => Ok(Some(row)),
            Some(_) => Err(Error::conflict(
                "nonce_conflict",
                "upload nonce was already used in another workspace",
            )),
            None => Ok(None),
        }
    }

    /// Step 1 of a streamed upload: validate, check membership, nonce and quota — before
    /// any byte is written.
    pub async fn begin_upload(&self, actor: &Actor, new: NewUpload) -> Result<UploadStart> {
        actor.require(super::scopes::UPLOADS_WRITE)?;
        self.upload_store()?;
        let workspace_id = new.workspace_id.trim().to_string();
        if workspace_id.is_empty() {
            return Err(Error::invalid(
                "workspace_id_required",
                "workspace_id is required",
            ));
        }
        let nonce = clean_nonce(new.nonce)?;
        let width = check_dimension("width", new.width)?;
        let height = check_dimension("height", new.height)?;
        let duration_ms = check_dimension("duration_ms", new.duration_ms)?;
        let conn = self.store.reader().await?;
        access::member_role(&conn, &workspace_id, actor.id()).await?;
        if let Some(row) =
            Self::replay_upload(&conn, actor.id(), &workspace_id, nonce.as_deref()).await?
        {
            return Ok(UploadStart::Replayed(row.details));
        }
        let quota = self.config.upload_quota_bytes;
        let used = quota_used(&conn, &workspace_id, actor.id(), "").await?;
        if used >= quota {
            return Err(quota_exceeded());
        }
        let cap = self.config.max_upload_bytes;
        let left = quota - used;
        let id = ids::new_id("upl");
        Ok(UploadStart::Ready(UploadDraft {
            key: format!("{workspace_id}/{id}"),
            id,
            workspace_id,
            owner_id: actor.id().to_string(),
            filename: clean_filename(new.filename.as_deref()),
            content_type: safe_content_type(new.content_type.as_deref()),
            width,
            height,
            duration_ms,
            nonce,
            limit: cap.min(left),
            quota_binds: left < cap,
            written: None,
            head: Vec::new(),
        }))
    }

    /// Step 2: streams the bytes into the object store, stopping at the cap (413
    /// `upload_too_large`) or the quota (413 `upload_quota_exceeded`). On any error the
    /// partial object is gone.
    pub async fn write_upload<S>(&self, draft: &mut UploadDraft, bytes: S) -> Result<u64>
    where
        S: Stream<Item = Result<Bytes>> + Send,
    {
        let store = self.upload_store()?;
        if draft.written.is_some() {
            return Err(Error::invalid("too_many_files", "only one file per upload"));
        }
        let headers = ObjectHeaders {
            content_type: draft.content_type.clone(),
            content_disposition: content_disposition(&draft.content_type, &draft.filename),
        };
        let sniff = is_image_type(&draft.content_type);
        let head = &mut draft.head;
        let bytes = futures::StreamExt::inspect(bytes, move |chunk| {
            if let Ok(chunk) = chunk {
                if sniff && head.len() < IMAGE_HEADER_BYTES {
                    let take = chunk.len().min(IMAGE_HEADER_BYTES - head.len());
                    head.extend_from_slice(&chunk[..take]);
                }
            }
        });
        match store
            .put_stream(&draft.key, bytes, draft.limit, &headers)
            .await?
        {
            Written::Stored(size) => {
                draft.written = Some(size);
                Ok(size)
            }
            Written::OverLimit if draft.quota_binds => Err(quota_exceeded()),
            Written::OverLimit => Err(too_large(draft.limit)),
        }
    }

    /// Step 3: records the upload (membership, nonce and quota checked again in the
    /// transaction). A nonce replay found only now returns the first upload and deletes the
    /// new bytes; any failure deletes them too.
    pub async fn finish_upload(
        &self,
        actor: &Actor,
        draft: UploadDraft,
        extras: UploadExtras,
    ) -> Result<CreatedUpload> {
        let store = self.upload_store()?.clone();
        let key = draft.key.clone();
        let outcome = self.record_upload(actor, draft, extras).await;
        match outcome {
            Ok(Recorded::Inserted(upload)) => Ok(CreatedUpload {
                upload,
                created: true,
            }),
            Ok(Recorded::Replayed(upload)) => {
                store.delete_quietly(&key).await;
                Ok(CreatedUpload {
                    upload,
                    created: false,
                })
            }
            Err(e) => {
                store.delete_quietly(&key).await;
                Err(e)
            }
        }
    }

    async fn record_upload(
        &self,
        actor: &Actor,
        draft: UploadDraft,
        extras: UploadExtras,
    ) -> Result<Recorded> {
        let size = draft
            .written
            .ok_or_else(|| Error::invalid("file_required", "file is required"))?;
        let late_nonce = clean_nonce(extras.nonce)?;
        let nonce = match (draft.nonce, late_nonce) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::invalid(
                    "nonce_mismatch",
                    "nonce differs between the query and the form",
                ))
            }
            (a, b) => a.or(b),
        };
        let mut details = UploadDetails {
            id: draft.id,
            workspace_id: draft.workspace_id,
            owner_id: actor.id().to_string(),
            filename: draft.filename,
            content_type: draft.content_type,
            byte_size: size as i64,
            width: check_dimension("width", extras.width)?.or(draft.width),
            height: check_dimension("height", extras.height)?.or(draft.height),
            duration_ms: check_dimension("duration_ms", extras.duration_ms)?.or(draft.duration_ms),
            status: "ready".to_string(),
            created_at: crate::clock::now_string(),
        };
        apply_image_dimensions(&mut details, &draft.head);
        if draft.owner_id != details.owner_id {
            return Err(Error::internal("upload draft of another caller"));
        }
        let quota = self.config.upload_quota_bytes;
        let direct = self.upload_store()?.backend() == crate::uploads::Backend::S3;
        let key = draft.key;
        self.store
            .write(move |tx| async move {
                access::member_role(&tx, &details.workspace_id, &details.owner_id).await?;
                if let Some(row) = Self::replay_upload(
                    &tx,
                    &details.owner_id,
                    &details.workspace_id,
                    nonce.as_deref(),
                )
                .await?
                {
                    return Ok(Recorded::Replayed(row.details));
                }
                let used =
                    quota_used(&tx, &details.workspace_id, &details.owner_id, &details.id).await?;
                if used.saturating_add(size) > quota {
                    return Err(quota_exceeded());
                }
                insert_row(
                    &tx,
                    InsertUpload {
                        details: &details,
                        key: &key,
                        nonce: nonce.as_deref(),
                        direct_download: direct,
                        expires_at_ms: None,
                    },
                )
                .await?;
                Ok(Recorded::Inserted(details))
            })
            .await
    }

    /// Deletes the bytes of an upload that will not be finished.
    pub async fn discard_upload(&self, draft: UploadDraft) {
        if let Some(store) = &self.uploads {
            store.delete_quietly(&draft.key).await;
        }
    }

    /// A whole streamed upload: [`Self::begin_upload`] → [`Self::write_upload`] →
    /// [`Self::finish_upload`].
    pub async fn create_upload<S>(
        &self,
        actor: &Actor,
        new: NewUpload,
        bytes: S,
    ) -> Result<CreatedUpload>
    where
        S: Stream<Item = Result<Bytes>> + Send,
    {
        let mut draft = match self.begin_upload(actor, new).await? {
            UploadStart::Replayed(upload) => {
                return Ok(CreatedUpload {
                    upload,
                    created: false,
                })
            }
            UploadStart::Ready(draft) => draft,
        };
        self.write_upload(&mut draft, bytes).await?;
        self.finish_upload(actor, draft, UploadExtras::default())
            .await
    }

    /// Starts a direct upload to S3: records a `pending` upload and returns a presigned
    /// `PUT` URL with the headers to send. 400 `presign_unsupported` (hosts answer 501) on
    /// other stores. A nonce replay re-signs a pending upload, or returns a ready one
    /// without a URL.
    pub async fn presign_upload(
        &self,
        actor: &Actor,
        new: NewUpload,
        byte_size: i64,
    ) -> Result<PresignedUpload> {
        actor.require(super::scopes::UPLOADS_WRITE)?;
        let store = self.upload_store()?.clone();
        if !store.can_presign() {
            return Err(crate::uploads::presign_unsupported());
        }
        let workspace_id = new.workspace_id.trim().to_string();
        if workspace_id.is_empty() {
            return Err(Error::invalid(
                "workspace_id_required",
                "workspace_id is required",
            ));
        }
        if byte_size < 0 {
            return Err(Error::invalid(
                "invalid_byte_size",
                "byte_size must be a non-negative integer",
            ));
        }
        if byte_size as u64 > self.config.max_upload_bytes {
            return Err(too_large(self.config.max_upload_bytes));
        }
        let nonce = clean_nonce(new.nonce)?;
        let id = ids::new_id("upl");
        let key = format!("{workspace_id}/{id}");
        let expires_at_ms = now_ms() + PRESIGNED_PUT_TTL.as_millis() as i64;
        let details = UploadDetails {
            id,
            workspace_id,
            owner_id: actor.id().to_string(),
            filename: clean_filename(new.filename.as_deref()),
            content_type: safe_content_type(new.content_type.as_deref()),
            byte_size,
            width: check_dimension("width", new.width)?,
            height: check_dimension("height", new.height)?,
            duration_ms: check_dimension("duration_ms", new.duration_ms)?,
            status: "pending".to_string(),
            created_at: crate::clock::now_string(),
        };
        let quota = self.config.upload_quota_bytes;
        let recorded = self
            .store
            .write(move |tx| async move {
                access::member_role(&tx, &details.workspace_id, &details.owner_id).await?;
                if let Some(row) = Self::replay_upload(
                    &tx,
                    &details.owner_id,
                    &details.workspace_id,
                    nonce.as_deref(),
                )
                .await?
                {
                    return Ok((false, row));
                }
                let used = quota_used(&tx, &details.workspace_id, &details.owner_id, "").await?;
                if used.saturating_add(byte_size as u64) > quota {
                    return Err(quota_exceeded());
                }
                insert_row(
                    &tx,
                    InsertUpload {
                        details: &details,
                        key: &key,
                        nonce: nonce.as_deref(),
                        direct_download: false,
                        expires_at_ms: Some(expires_at_ms),
                    },
                )
                .await?;
                Ok((
                    true,
                    UploadRow {
                        details,
                        key,
                        direct_download: false,
                        expires_at_ms: Some(expires_at_ms),
                    },
                ))
            })
            .await?;
        let (created, row) = recorded;
        let mut headers = BTreeMap::new();
        headers.insert("Content-Type".to_string(), row.details.content_type.clone());
        headers.insert(
            "Content-Disposition".to_string(),
            content_disposition(&row.details.content_type, &row.details.filename),
        );
        let (url, expires_at) = if row.details.status == "pending" {
            let ttl = if created {
                PRESIGNED_PUT_TTL
            } else {
                // A replay re-signs for what is left of the original window (at least a
                // minute), so the quota reservation and the URL end together.
                let left = row.expires_at_ms.unwrap_or(0) - now_ms();
                Duration::from_millis(left.max(60_000) as u64)
            };
            let url = store.presign(SignedMethod::Put, &row.key, ttl).await?;
            let at = crate::clock::now()
                + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::zero());
            (Some(url), Some(crate::clock::format(at)))
        } else {
            (None, None)
        };
        Ok(PresignedUpload {
            upload: row.details,
            url,
            method: SignedMethod::Put.as_str(),
            headers,
            expires_at,
            created,
        })
    }

    /// Finishes a presigned upload: the object must exist, be at most the cap (else both
    /// are deleted, 413) and have the announced size (else the object is deleted, 400; the
    /// URL may be used again while it lives). Idempotent once ready. Owner only (404).
    pub async fn complete_upload(&self, actor: &Actor, upload_id: &str) -> Result<UploadDetails> {
        actor.require(super::scopes::UPLOADS_WRITE)?;
        let store = self.upload_store()?.clone();
        let conn = self.store.reader().await?;
        let row = get_row(&conn, upload_id)
            .await?
            .filter(|r| r.details.owner_id == actor.id() && is_live_status(&r.details.status))
            .ok_or_else(|| Error::not_found("upload"))?;
        access::member_role(&conn, &row.details.workspace_id, actor.id())
            .await
            .map_err(|_| Error::not_found("upload"))?;
        drop(conn);
        if row.details.status == "ready" {
            return Ok(row.details);
        }
        let head = store.head(&row.key).await?.ok_or_else(|| {
            Error::conflict(
                "upload_incomplete",
                "the file has not been uploaded to the presigned URL yet",
            )
        })?;
        let cap = self.config.max_upload_bytes;
        if head.size > cap {
            store.delete_quietly(&row.key).await;
            self.delete_pending(&row.details.id).await?;
            return Err(too_large(cap));
        }
        if head.size != row.details.byte_size as u64 {
            store.delete_quietly(&row.key).await;
            return Err(Error::invalid(
                "upload_size_mismatch",
                format!(
                    "uploaded {} bytes, announced {}",
                    head.size, row.details.byte_size
                ),
            ));
        }
        let expected_disposition =
            content_disposition(&row.details.content_type, &row.details.filename);
        let direct = head.content_type.as_deref() == Some(row.details.content_type.as_str())
            && head.content_disposition.as_deref() == Some(expected_disposition.as_str());
        let mut sized = row.details.clone();
        if is_image_type(&row.details.content_type) && head.size > 0 {
            let n = head.size.min(IMAGE_HEADER_BYTES as u64);
            apply_image_dimensions(&mut sized, &read_head(&store, &row.key, n).await);
        }
        let (width, height) = (sized.width, sized.height);
        let quota = self.config.upload_quota_bytes;
        let id = row.details.id.clone();
        let owner = actor.id().to_string();
        let outcome = self
            .store
            .write(move |tx| async move {
                let row = get_row(&tx, &id)
                    .await?
                    .filter(|r| is_live_status(&r.details.status))
                    .ok_or_else(|| Error::not_found("upload"))?;
                access::member_role(&tx, &row.details.workspace_id, &owner).await?;
                if row.details.status == "ready" {
                    return Ok(Completed::Ready(Box::new(row.details)));
                }
                let used = quota_used(&tx, &row.details.workspace_id, &owner, &id).await?;
                if used.saturating_add(row.details.byte_size as u64) > quota {
                    tx.execute("DELETE FROM uploads WHERE id = ?1", [id.as_str()])
                        .await?;
                    return Ok(Completed::QuotaExceeded);
                }
                tx.execute(
                    "UPDATE uploads SET status = 'ready', pending_expires_at_ms = NULL,
                        direct_download = ?2, width = ?3, height = ?4
                     WHERE id = ?1 AND status = 'pending'",
                    vec![
                        Value::from(id.clone()),
                        Value::from(direct as i64),
                        Value::from(width),
                        Value::from(height),
                    ],
                )
                .await?;
                Ok(Completed::Ready(Box::new(UploadDetails {
                    status: "ready".to_string(),
                    width,
                    height,
                    ..row.details
                })))
            })
            .await;
        match outcome {
            Ok(Completed::Ready(details)) => Ok(*details),
            Ok(Completed::QuotaExceeded) => {
                store.delete_quietly(&row.key).await;
                Err(quota_exceeded())
            }
            Err(e) => Err(e),
        }
    }

    async fn delete_pending(&self, upload_id: &str) -> Result<()> {
        let id = upload_id.to_string();
        self.store
            .write(move |tx| async move {
                tx.execute(
                    "DELETE FROM uploads WHERE id = ?1 AND status = 'pending'",
                    [id.as_str()],
                )
                .await?;
                Ok(())
            })
            .await
    }

    /// The caller's own upload sent with `nonce` in a workspace: 404 when none, 409 when
    /// the nonce was used in another workspace.
    pub async fn upload_by_nonce(
        &self,
        actor: &Actor,
        workspace_id: &str,
        nonce: &str,
    ) -> Result<UploadDetails> {
        actor.require(super::scopes::UPLOADS_WRITE)?;
        actor.require_workspace(workspace_id)?;
        let nonce = nonce.trim();
        if nonce.is_empty() {
            return Err(Error::invalid("nonce_required", "nonce is required"));
        }
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        let row = row_by_nonce(&conn, actor.id(), nonce)
            .await?
            .ok_or_else(|| Error::not_found("upload"))?;
        if row.details.workspace_id != workspace_id {
            return Err(Error::conflict(
                "nonce_other_workspace",
                "nonce was used in another workspace",
            ));
        }
        Ok(row.details)
    }

    /// An upload the caller may download (see the module rules), else 404.
    pub async fn open_upload(&self, actor: &Actor, upload_id: &str) -> Result<UploadDownload> {
        actor.require(super::scopes::MESSAGES_READ)?;
        self.upload_store()?;
        let conn = self.store.reader().await?;
        let row = visible_row(&conn, upload_id, actor.id()).await?;
        Ok(UploadDownload {
            upload: row.details,
            key: row.key,
            direct: row.direct_download,
        })
    }

    /// A presigned GET for a download when the store can sign and the stored object
    /// carries the safe headers itself; `None` means stream it through the API.
    pub async fn download_url(&self, download: &UploadDownload) -> Result<Option<String>> {
        let store = self.upload_store()?;
        if !download.direct || !store.can_presign() {
            return Ok(None);
        }
        store
            .presign(SignedMethod::Get, &download.key, PRESIGNED_GET_TTL)
            .await
            .map(Some)
    }

    /// Reads the bytes of a download, all or `range` (inside the object).
    pub async fn read_upload(
        &self,
        download: &UploadDownload,
        range: Option<Range<u64>>,
    ) -> Result<ObjectRead> {
        self.upload_store()?.read(&download.key, range).await
    }

    /// Attaches an upload to the caller's own message (403 otherwise): same workspace
    /// (400 `upload_workspace_mismatch`), idempotent, emits `message.updated` (private for
    /// DM messages) when something changed.
    pub async fn attach_upload(
        &self,
        actor: &Actor,
        message_id: &str,
        upload_id: &str,
    ) -> Result<Attached> {
        actor.require(super::scopes::UPLOADS_WRITE)?;
        let upload_id = upload_id.trim().to_string();
        if upload_id.is_empty() {
            return Err(Error::invalid(
                "upload_id_required",
                "upload_id is required",
            ));
        }
        let message_id = message_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (message, _) = access::visible_message(&tx, &message_id, &user_id).await?;
                if message.author_id != user_id {
                    return Err(Error::forbidden(
                        "author_required",
                        "only the author can attach files to a message",
                    ));
                }
                if message.deleted_at.is_some() {
                    return Err(Error::conflict("message_deleted", "message was deleted"));
                }
                let event = if attach_checked(&tx, &message, &upload_id, &user_id).await? {
                    Some(super::messages::message_event(&tx, "message.updated", &message).await?)
                } else {
                    None
                };
                let mut updated = messages::get(&tx, &message_id)
                    .await?
                    .ok_or_else(|| Error::not_found("message"))?;
                messages::hydrate(&tx, std::slice::from_mut(&mut updated), &user_id).await?;
                Ok(Attached {
                    message: updated,
                    event,
                })
            })
            .await
    }
}

// ---- Sweep ---------------------------------------------------------------------------

pub use crate::store::uploads::SweepReason;
use crate::store::uploads::{self as upload_rows, SweepCandidate};

/// What [`Chat::sweep_uploads`] removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepPolicy {
    /// A ready upload attached to no message is removed once it is this old.
    pub orphan_grace: Duration,
    /// A pending (presigned, never completed) upload is removed this long after its URL
    /// expired (a `PUT` that started just before the expiry may still land).
    pub pending_grace: Duration,
    /// Remove uploads attached only to deleted messages (unreachable for everyone).
    pub deleted_messages: bool,
    /// Report what would be removed; change nothing.
    pub dry_run: bool,
}

/// Default [`SweepPolicy::orphan_grace`]: 24 hours.
pub const DEFAULT_ORPHAN_GRACE: Duration = Duration::from_secs(24 * 60 * 60);
/// Default [`SweepPolicy::pending_grace`]: 1 hour.
pub const DEFAULT_PENDING_GRACE: Duration = Duration::from_secs(60 * 60);

impl Default for SweepPolicy {
    fn default() -> Self {
        Self {
            orphan_grace: DEFAULT_ORPHAN_GRACE,
            pending_grace: DEFAULT_PENDING_GRACE,
            deleted_messages: true,
            dry_run: false,
        }
    }
}

/// One upload the sweep removed (or, in a dry run, would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweptUpload {
    pub id: String,
    pub workspace_id: String,
    pub owner_id: String,
    pub byte_size: i64,
    pub reason: SweepReason,
}

/// An upload whose object could not be deleted; its row stays marked `deleting`
/// (invisible, not counted in the quota) and the next sweep retries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepFailure {
    pub id: String,
    pub error: String,
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub dry_run: bool,
    /// Rows and objects removed (in a dry run: that would be).
    pub removed: u64,
    pub expired_pending: u64,
    pub orphaned: u64,
    pub deleted_messages: u64,
    /// Rows left marked by an earlier sweep, finished now.
    pub unfinished: u64,
    /// Bytes of removed ready uploads (freed from their owners' quotas).
    pub bytes_freed: u64,
    pub uploads: Vec<SweptUpload>,
    pub failures: Vec<SweepFailure>,
}

/// Why `c` should go at `now` under `policy`, if it should.
fn sweep_reason(
    c: &SweepCandidate,
    now: chrono::DateTime<chrono::Utc>,
    policy: &SweepPolicy,
) -> Option<SweepReason> {
    match c.status.as_str() {
        "deleting" => Some(SweepReason::Unfinished),
        "pending" => {
            let expires = c.pending_expires_at_ms.or_else(|| {
                crate::clock::parse(&c.created_at)
                    .map(|t| t.timestamp_millis() + PRESIGNED_PUT_TTL.as_millis() as i64)
            })?;
            let grace = i64::try_from(policy.pending_grace.as_millis()).unwrap_or(i64::MAX);
            (expires.saturating_add(grace) <= now.timestamp_millis())
                .then_some(SweepReason::ExpiredPending)
        }
        "ready" if c.live > 0 => None,
        "ready" if c.attached > 0 => policy
            .deleted_messages
            .then_some(SweepReason::DeletedMessages),
        "ready" => {
            // An unparsable timestamp keeps the upload (never delete on a doubt).
            let created = crate::clock::parse(&c.created_at)?;
            let grace = chrono::Duration::from_std(policy.orphan_grace).ok()?;
            (created.checked_add_signed(grace)? <= now).then_some(SweepReason::Orphaned)
        }
        _ => None,
    }
}

impl Chat {
    /// Removes expired pending uploads, orphans past the grace and (by default) uploads
    /// attached only to deleted messages: rows, objects and quota. `now` is the sweep's
    /// clock (tests pass their own). Never removes an upload carried by a live message.
    ///
    /// Order per upload, so no row a user can still fetch ever points at a missing object
    /// and no object is ever left without a row that remembers it:
    /// 1. in one write transaction, re-check the rules and mark the row `deleting` (from
    ///    then on it is invisible: not downloadable, attachable, completable or counted in
    ///    the quota, and its nonce is free) — an attach racing the sweep either committed
    ///    first (the upload is kept) or finds no ready upload (404);
    /// 2. delete the object (a missing one is fine);
    /// 3. delete the row. When step 2 fails the row stays marked and the next sweep
    ///    retries it (reported in `failures`).
    pub async fn sweep_uploads(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        policy: &SweepPolicy,
    ) -> Result<SweepReport> {
        let store = self.upload_store()?.clone();
        let conn = self.store.reader().await?;
        let candidates = upload_rows::sweep_candidates(&conn).await?;
        drop(conn);
        let mut report = SweepReport {
            dry_run: policy.dry_run,
            ..SweepReport::default()
        };
        for candidate in candidates {
            let Some(reason) = sweep_reason(&candidate, now, policy) else {
                continue;
            };
            let reason = if policy.dry_run {
                reason
            } else {
                let id = candidate.id.clone();
                let rules = policy.clone();
                let marked = self
                    .store
                    .write(move |tx| async move {
                        let Some(current) = upload_rows::sweep_candidate(&tx, &id).await? else {
                            return Ok(None);
                        };
                        let reason = sweep_reason(&current, now, &rules);
                        if matches!(reason, Some(r) if r != SweepReason::Unfinished) {
                            upload_rows::mark_deleting(&tx, &id).await?;
                        }
                        Ok(reason)
                    })
                    .await?;
                let Some(reason) = marked else {
                    continue;
                };
                if let Err(e) = store.delete(&candidate.key).await {
                    tracing::warn!(upload_id = %candidate.id, error = %e.message, "sweep could not delete an upload object; will retry");
                    report.failures.push(SweepFailure {
                        id: candidate.id.clone(),
                        error: e.message,
                    });
                    continue;
                }
                let id = candidate.id.clone();
                self.store
                    .write(move |tx| async move { upload_rows::delete_marked(&tx, &id).await })
                    .await?;
                reason
            };
            report.removed += 1;
            match reason {
                SweepReason::ExpiredPending => report.expired_pending += 1,
                SweepReason::Orphaned => report.orphaned += 1,
                SweepReason::DeletedMessages => report.deleted_messages += 1,
                SweepReason::Unfinished => report.unfinished += 1,
            }
            if candidate.status == "ready" {
                report.bytes_freed += candidate.byte_size.max(0) as u64;
            }
            report.uploads.push(SweptUpload {
                id: candidate.id,
                workspace_id: candidate.workspace_id,
                owner_id: candidate.owner_id,
                byte_size: candidate.byte_size,
                reason,
            });
        }
        if report.removed > 0 || !report.failures.is_empty() {
            tracing::info!(
                dry_run = report.dry_run,
                removed = report.removed,
                bytes_freed = report.bytes_freed,
                failures = report.failures.len(),
                "upload sweep"
            );
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_go_through_the_allow_list() {
        for ok in [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "video/mp4",
            "video/webm",
            "audio/mpeg",
            "audio/ogg",
            "text/plain",
            "application/pdf",
        ] {
            assert_eq!(safe_content_type(Some(ok)), ok);
            assert!(is_inline(ok));
        }
        assert_eq!(
            safe_content_type(Some("Text/Plain; charset=utf-8")),
            "text/plain"
        );
        for bad in [
            "text/html",
            "image/svg+xml",
            "application/javascript",
            "audio/",
            "audio/x<y",
            "",
        ] {
            assert_eq!(safe_content_type(Some(bad)), OCTET_STREAM, "{bad}");
        }
        assert_eq!(safe_content_type(None), OCTET_STREAM);
        assert!(!is_inline("text/html"));
    }

    #[test]
    fn dispositions_quote_and_encode() {
        assert_eq!(
            content_disposition("image/png", "cat.png"),
            "inline; filename=\"cat.png\"; filename*=UTF-8''cat.png"
        );
        assert_eq!(
            content_disposition("text/html", "a \"b\".html"),
            "attachment; filename=\"a _b_.html\"; filename*=UTF-8''a%20%22b%22.html"
        );
        assert_eq!(
            content_disposition("text/plain", "é.txt"),
            "inline; filename=\"_.txt\"; filename*=UTF-8''%C3%A9.txt"
        );
    }

    #[test]
    fn filenames_are_base_names_and_bounded() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_filename(Some("C:\\Users\\me\\cat.png")), "cat.png");
        assert_eq!(clean_filename(Some("a\r\nb\u{202e}.txt")), "ab.txt");
        assert_eq!(clean_filename(Some("  ..  ")), "upload.bin");
        assert_eq!(clean_filename(Some("dir/")), "upload.bin");
        assert_eq!(clean_filename(None), "upload.bin");
        let long = format!("{}.jpeg", "x".repeat(400));
        let cleaned = clean_filename(Some(&long));
        assert_eq!(cleaned.chars().count(), MAX_FILENAME_CHARS);
        assert!(cleaned.ends_with("x.jpeg"));
        let no_ext = "y".repeat(300);
        assert_eq!(clean_filename(Some(&no_ext)).chars().count(), 255);
    }

    #[test]
    fn upload_ids_are_cleaned() {
        assert_eq!(
            clean_upload_ids(vec![" a ".into(), "".into(), "a".into(), "b".into()]).unwrap(),
            vec!["a", "b"]
        );
        let many: Vec<String> = (0..11).map(|i| format!("upl_{i}")).collect();
        assert_eq!(clean_upload_ids(many).unwrap_err().code, "too_many_uploads");
    }
}
