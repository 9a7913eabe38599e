//! Uploads: multipart create (streamed into the upload store), download (Range, safe
//! headers, or a redirect to a presigned GET on S3), nonce lookup, presigned direct
//! uploads, and attaching uploads to messages.

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json, Query};
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use clickclack_runtime::chat::{
    Actor, Chat, NewUpload, UploadDetails, UploadDraft, UploadExtras, UploadStart,
};
use clickclack_runtime::{Error, ErrorKind};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::json;
use std::ops::Range;

/// Room for multipart boundaries, part headers and the small text fields on top of the
/// upload cap.
pub const MULTIPART_OVERHEAD_BYTES: u64 = 64 * 1024;

/// Longest text field of an upload form.
const MAX_FIELD_BYTES: usize = 1024;

const NONCE_HEADER: &str = "x-clickclack-upload-nonce";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/uploads",
            // The global 1 MiB JSON limit does not apply here: `create` wraps the body in
            // its own limit (the upload cap plus multipart overhead).
            post(create).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/uploads/presign", post(presign))
        .route("/api/uploads/by-nonce", get(by_nonce))
        .route("/api/uploads/{upload_id}", get(download))
        .route("/api/uploads/{upload_id}/complete", post(complete))
        .route("/api/messages/{message_id}/attachments", post(attach))
}

fn unconfigured() -> ApiError {
    ApiError(Error::new(
        ErrorKind::Unavailable,
        "uploads_unconfigured",
        "uploads are not configured",
    ))
}

fn with_nonce_header(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(NONCE_HEADER, HeaderValue::from_static("supported"));
    response
}

/// 201 `{upload}` for a new upload, 200 for a replay.
fn upload_response(upload: &UploadDetails, created_now: bool) -> Response {
    let body = json!({ "upload": upload });
    with_nonce_header(if created_now { created(body) } else { ok(body) })
}

#[derive(Deserialize, Default)]
struct UploadParams {
    workspace_id: Option<String>,
    nonce: Option<String>,
}

/// The text fields of an upload form seen so far.
#[derive(Default)]
struct Form {
    workspace_id: Option<String>,
    nonce: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    duration_ms: Option<i64>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn multipart_error(e: axum::extract::multipart::MultipartError, cap: u64) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::too_large(
            "upload_too_large",
            format!("upload is larger than {cap} bytes"),
        )
    } else {
        Error::invalid(
            "invalid_multipart",
            format!("invalid multipart body: {}", e.body_text()),
        )
    }
}

/// Reads a short text field.
async fn text_field(
    field: &mut axum::extract::multipart::Field<'_>,
    name: &str,
    cap: u64,
) -> Result<String, Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, cap))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_FIELD_BYTES {
            return Err(Error::invalid(
                "invalid_multipart",
                format!("form field {name} is too long"),
            ));
        }
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::invalid(
            "invalid_multipart",
            format!("form field {name} is not UTF-8"),
        )
    })
}

fn integer_field(name: &str, text: &str) -> Result<Option<i64>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(Some).map_err(|_| {
        Error::invalid(
            "invalid_upload_metadata",
            format!("{name} must be a non-negative integer"),
        )
    })
}

/// Both given and different → 400.
fn agree(name: &str, query: &Option<String>, form: &Option<String>) -> Result<(), Error> {
    match (query, form) {
        (Some(q), Some(f)) if q != f => Err(Error::invalid(
            "upload_param_mismatch",
            format!("{name} differs between the query string and the form"),
        )),
        _ => Ok(()),
    }
}

/// `POST /api/uploads` (multipart): fields `workspace_id` (or query), `file` (exactly one),
/// `width`, `height`, `duration_ms`, `nonce` (or query). The file part is streamed into the
/// upload store after the membership check; `workspace_id` must come before it.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<UploadParams>,
    request: Request,
) -> ApiResult {
    let chat = state.chat();
    if chat.uploads().is_none() {
        return Err(unconfigured());
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.split(';').next().map(str::trim) != Some("multipart/form-data") {
        return Err(ApiError(Error::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_media_type",
            "upload body must be multipart/form-data",
        )));
    }
    let cap = chat.config().max_upload_bytes;
    let limit = cap.saturating_add(MULTIPART_OVERHEAD_BYTES);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError(Error::too_large(
            "upload_too_large",
            format!("upload is larger than {cap} bytes"),
        )));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|e| ApiError::invalid("invalid_multipart", e.body_text()))?;
    let params = UploadParams {
        workspace_id: non_empty(params.workspace_id),
        nonce: non_empty(params.nonce),
    };
    let mut form = Form::default();
    let mut draft: Option<UploadDraft> = None;
    let read = read_form(
        chat,
        &caller.actor,
        &params,
        &mut multipart,
        &mut form,
        &mut draft,
        cap,
    )
    .await;
    let draft = match (read, draft) {
        (Ok(Some(replayed)), None) => return Ok(upload_response(&replayed, false)),
        (Ok(None), Some(draft)) => draft,
        (Ok(None), None) => {
            return Err(ApiError::invalid("file_required", "file is required"));
        }
        (result, draft) => {
            if let Some(draft) = draft {
                chat.discard_upload(draft).await;
            }
            return Err(match result {
                Err(e) => ApiError(e),
                Ok(_) => ApiError(Error::internal("upload form ended in an odd state")),
            });
        }
    };
    let extras = UploadExtras {
        width: form.width,
        height: form.height,
        duration_ms: form.duration_ms,
        nonce: form.nonce.or(params.nonce),
    };
    let done = chat.finish_upload(&caller.actor, draft, extras).await?;
    Ok(upload_response(&done.upload, done.created))
}

/// Walks the form. Returns `Some(upload)` when a nonce replay answered before any byte was
/// written; otherwise `draft` holds the written upload (if a file part came).
async fn read_form(
    chat: &Chat,
    actor: &Actor,
    params: &UploadParams,
    multipart: &mut Multipart,
    form: &mut Form,
    draft: &mut Option<UploadDraft>,
    cap: u64,
) -> Result<Option<UploadDetails>, Error> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, cap))?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => {
                if draft.is_some() {
                    return Err(Error::invalid("too_many_files", "only one file per upload"));
                }
                let workspace_id = form
                    .workspace_id
                    .clone()
                    .or_else(|| params.workspace_id.clone())
                    .ok_or_else(|| {
                        Error::invalid(
                            "workspace_id_required",
                            "workspace_id is required (a query parameter, or a form field before the file)",
                        )
                    })?;
                let new = NewUpload {
                    workspace_id,
                    filename: field.file_name().map(str::to_string),
                    content_type: field.content_type().map(str::to_string),
                    width: form.width,
                    height: form.height,
                    duration_ms: form.duration_ms,
                    nonce: form.nonce.clone().or_else(|| params.nonce.clone()),
                };
                match chat.begin_upload(actor, new).await? {
                    UploadStart::Replayed(upload) => return Ok(Some(upload)),
                    UploadStart::Ready(ready) => {
                        let pending = draft.insert(ready);
                        let bytes = (&mut field).map_err(|e| multipart_error(e, cap));
                        if let Err(e) = chat.write_upload(pending, bytes).await {
                            // The runtime removed the partial object already.
                            *draft = None;
                            return Err(e);
                        }
                    }
                }
            }
            "workspace_id" => {
                let value = non_empty(Some(text_field(&mut field, &name, cap).await?));
                agree("workspace_id", &params.workspace_id, &value)?;
                if let (Some(started), Some(v)) = (draft.as_ref(), value.as_ref()) {
                    if started.workspace_id() != v {
                        return Err(Error::invalid(
                            "upload_param_mismatch",
                            "workspace_id differs between the query string and the form",
                        ));
                    }
                }
                form.workspace_id = value;
            }
            "nonce" => {
                let value = non_empty(Some(text_field(&mut field, &name, cap).await?));
                agree("nonce", &params.nonce, &value)?;
                form.nonce = value;
            }
            "width" => {
                form.width = integer_field("width", &text_field(&mut field, &name, cap).await?)?
            }
            "height" => {
                form.height = integer_field("height", &text_field(&mut field, &name, cap).await?)?
            }
            "duration_ms" => {
                form.duration_ms =
                    integer_field("duration_ms", &text_field(&mut field, &name, cap).await?)?
            }
            _ => {} // other fields are skipped unread
        }
    }
    Ok(None)
}

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    Full,
    Part(Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range (`a-b`, `a-`, `-n`). Other units and multi-range requests are served
/// whole (RFC 9110 lets a server ignore them); malformed or unsatisfiable byte ranges → 416.
fn range_ask(header: Option<&str>, size: u64) -> RangeAsk {
    let Some(value) = header.map(str::trim) else {
        return RangeAsk::Full;
    };
    let Some((unit, spec)) = value.split_once('=') else {
        return RangeAsk::Unsatisfiable;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeAsk::Full;
    }
    if spec.contains(',') {
        return RangeAsk::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsk::Unsatisfiable;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, true) => RangeAsk::Unsatisfiable,
        (true, false) => match number(last) {
            Some(n) if n > 0 && size > 0 => RangeAsk::Part(size.saturating_sub(n)..size),
            _ => RangeAsk::Unsatisfiable,
        },
        (false, true) => match number(first) {
            Some(a) if a < size => RangeAsk::Part(a..size),
            _ => RangeAsk::Unsatisfiable,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b && a < size => RangeAsk::Part(a..b.min(size - 1) + 1),
            _ => RangeAsk::Unsatisfiable,
        },
    }
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Headers every download answer carries.
fn safety_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
}

/// `GET /api/uploads/{id}`: the bytes (Range supported), or on S3 a 302 to a short-lived
/// presigned GET of an object that carries the same safe headers.
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(upload_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let chat = state.chat();
    let download = chat.open_upload(&caller.actor, &upload_id).await?;
    if let Some(url) = chat.download_url(&download).await? {
        let mut response = StatusCode::FOUND.into_response();
        let h = response.headers_mut();
        h.insert(header::LOCATION, header_value(&url));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        safety_headers(h);
        return Ok(response);
    }
    let size = download.upload.byte_size.max(0) as u64;
    let ask = range_ask(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        size,
    );
    let (status, range) = match ask {
        RangeAsk::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let h = response.headers_mut();
            safety_headers(h);
            h.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{size}")),
            );
            return Ok(response);
        }
        RangeAsk::Full => (StatusCode::OK, None),
        RangeAsk::Part(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
    };
    let read = chat.read_upload(&download, range.clone()).await?;
    let mut response = Response::new(Body::from_stream(read.stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    safety_headers(h);
    h.insert(header::CONTENT_TYPE, header_value(&download.content_type()));
    h.insert(
        header::CONTENT_DISPOSITION,
        header_value(&download.content_disposition()),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(read.range.end - read.range.start),
    );
    if range.is_some() {
        h.insert(
            header::CONTENT_RANGE,
            header_value(&format!(
                "bytes {}-{}/{}",
                read.range.start,
                read.range.end.saturating_sub(1),
                read.size
            )),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
struct NonceQuery {
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    nonce: String,
}

/// `GET /api/uploads/by-nonce?workspace_id=&nonce=`: the caller's own upload.
async fn by_nonce(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NonceQuery>,
) -> ApiResult {
    let upload = state
        .chat()
        .upload_by_nonce(&caller.actor, &q.workspace_id, &q.nonce)
        .await?;
    Ok(with_nonce_header(ok(json!({ "upload": upload }))))
}

#[derive(Deserialize)]
struct PresignBody {
    #[serde(default)]
    workspace_id: String,
    filename: Option<String>,
    content_type: Option<String>,
    byte_size: Option<i64>,
    nonce: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    duration_ms: Option<i64>,
}

/// `POST /api/uploads/presign` (S3 only, else 501 `presign_unsupported`).
async fn presign(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PresignBody>,
) -> ApiResult {
    let chat = state.chat();
    if chat.uploads().is_none() {
        return Err(unconfigured());
    }
    let byte_size = body
        .byte_size
        .ok_or_else(|| ApiError::invalid("byte_size_required", "byte_size is required"))?;
    let new = NewUpload {
        workspace_id: body.workspace_id,
        filename: body.filename,
        content_type: body.content_type,
        width: body.width,
        height: body.height,
        duration_ms: body.duration_ms,
        nonce: body.nonce,
    };
    let presigned = match chat.presign_upload(&caller.actor, new, byte_size).await {
        Ok(p) => p,
        Err(e) if e.code == "presign_unsupported" => {
            return Ok((
                StatusCode::NOT_IMPLEMENTED,
                axum::Json(json!({"error": e.message, "code": e.code})),
            )
                .into_response())
        }
        Err(e) => return Err(e.into()),
    };
    let body = json!({
        "upload": presigned.upload,
        "url": presigned.url,
        "method": presigned.method,
        "headers": presigned.headers,
        "expires_at": presigned.expires_at,
    });
    Ok(with_nonce_header(if presigned.created {
        created(body)
    } else {
        ok(body)
    }))
}

/// `POST /api/uploads/{id}/complete`: after the presigned PUT.
async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(upload_id): Path<String>,
) -> ApiResult {
    let upload = state
        .chat()
        .complete_upload(&caller.actor, &upload_id)
        .await?;
    Ok(ok(json!({ "upload": upload })))
}

#[derive(Deserialize)]
struct AttachBody {
    #[serde(default)]
    upload_id: String,
}

/// `POST /api/messages/{id}/attachments {upload_id}` → `{ok, message, event}`.
async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    Json(body): Json<AttachBody>,
) -> ApiResult {
    let attached = state
        .chat()
        .attach_upload(&caller.actor, &message_id, &body.upload_id)
        .await?;
    Ok(ok(json!({
        "ok": true,
        "message": attached.message,
        "event": attached.event,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeAsk::*;
        assert_eq!(range_ask(None, 10), Full);
        assert_eq!(range_ask(Some("bytes=0-3"), 10), Part(0..4));
        assert_eq!(range_ask(Some("bytes=2-"), 10), Part(2..10));
        assert_eq!(range_ask(Some("bytes=-3"), 10), Part(7..10));
        assert_eq!(range_ask(Some("bytes=-30"), 10), Part(0..10));
        assert_eq!(range_ask(Some("bytes=5-100"), 10), Part(5..10));
        assert_eq!(range_ask(Some("bytes=0-0,2-3"), 10), Full);
        assert_eq!(range_ask(Some("items=0-3"), 10), Full);
        for bad in [
            "bytes=10-",
            "bytes=10-12",
            "bytes=5-2",
            "bytes=-0",
            "bytes=-",
            "bytes=a-b",
            "bytes=1",
            "garbage",
            "bytes=+1-2",
        ] {
            assert_eq!(range_ask(Some(bad), 10), Unsatisfiable, "{bad}");
        }
        assert_eq!(range_ask(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(range_ask(Some("bytes=-1"), 0), Unsatisfiable);
    }
}
