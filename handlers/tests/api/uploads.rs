//! Uploads over HTTP on `file://` and `memory://` stores, and on a real S3-compatible server
//! (`s3s-fs`, started on 127.0.0.1 by the test; install it with `scripts/install-test-deps`).

use crate::dms::{create_dm, third_member};
use crate::{Person, Res, TestApp};
use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use clickclack_runtime::chat::ChatConfig;
use clickclack_runtime::uploads::UploadStore;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

// ---- helpers -------------------------------------------------------------------------

const BOUNDARY: &str = "clickclack-test-boundary-7MA4YWxkTrZu0gW";

/// One multipart part: a text field, or a file when `filename` is set.
struct Part {
    name: &'static str,
    filename: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

fn field(name: &'static str, value: &str) -> Part {
    Part {
        name,
        filename: None,
        content_type: None,
        data: value.as_bytes().to_vec(),
    }
}

fn file(filename: &str, content_type: &str, data: impl Into<Vec<u8>>) -> Part {
    Part {
        name: "file",
        filename: Some(filename.to_string()),
        content_type: Some(content_type.to_string()),
        data: data.into(),
    }
}

fn multipart_content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// The form's bytes split in three: head, the file data of the first file part, tail —
/// so big bodies can be streamed without copying the data.
fn multipart_body(parts: Vec<Part>) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match &part.filename {
            Some(f) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\n",
                    part.name
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"\r\n", part.name).as_bytes(),
            ),
        }
        if let Some(ct) = &part.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&part.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// A body streamed in 64 KiB chunks, without a `Content-Length`.
fn streamed(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

async fn post_form(app: &TestApp, who: &Person, query: &str, parts: Vec<Part>) -> Res {
    app.post(&format!("/api/uploads{query}"))
        .token(&who.token)
        .raw(&multipart_content_type(), multipart_body(parts))
        .send()
        .await
}

/// Uploads one file to the app's workspace and returns the upload JSON.
async fn upload(app: &TestApp, who: &Person, name: &str, ct: &str, data: &[u8]) -> Value {
    let res = post_form(
        app,
        who,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            file(name, ct, data.to_vec()),
        ],
    )
    .await
    .expect(StatusCode::CREATED);
    res.body["upload"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn download(app: &TestApp, who: &Person, upload_id: &str) -> Res {
    app.get(&format!("/api/uploads/{upload_id}"))
        .token(&who.token)
        .send()
        .await
}

fn header<'a>(res: &'a Res, name: &str) -> &'a str {
    res.headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

fn config(max_upload_bytes: u64, upload_quota_bytes: u64) -> ChatConfig {
    ChatConfig {
        max_upload_bytes,
        upload_quota_bytes,
        ..ChatConfig::default()
    }
}

async fn memory_app() -> (TestApp, UploadStore) {
    let store = UploadStore::memory();
    (
        TestApp::with_uploads(store.clone(), ChatConfig::default()).await,
        store,
    )
}

async fn file_app(dir: &Path, config: ChatConfig) -> (TestApp, UploadStore) {
    let store = UploadStore::open(&format!("file://{}", dir.display())).unwrap();
    (TestApp::with_uploads(store.clone(), config).await, store)
}

/// Every file under `dir`, recursively (catches staging files the store does not list).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

async fn second_workspace(app: &TestApp, who: &Person) -> String {
    let res = app
        .post("/api/workspaces")
        .token(&who.token)
        .json(json!({"name": "Elsewhere"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    id(&res.body["workspace"])
}

async fn events_of(app: &TestApp, who: &Person) -> Vec<Value> {
    app.get(&format!(
        "/api/realtime/events?workspace_id={}",
        app.workspace_id
    ))
    .token(&who.token)
    .send()
    .await
    .expect(StatusCode::OK)
    .body["events"]
        .as_array()
        .unwrap()
        .clone()
}

// ---- file:// and memory:// ---------------------------------------------------------------

#[tokio::test]
async fn round_trip_on_a_file_store_with_metadata_and_safe_headers() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = file_app(dir.path(), ChatConfig::default()).await;
    let res = post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            field("width", "640"),
            field("height", "480"),
            file(
                "../../notes/note.txt",
                "text/plain; charset=utf-8",
                "hello upload",
            ),
            field("duration_ms", "1500"),
        ],
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(header(&res, "x-clickclack-upload-nonce"), "supported");
    let up = &res.body["upload"];
    assert!(up["id"].as_str().unwrap().starts_with("upl_"));
    assert_eq!(up["workspace_id"], app.workspace_id.as_str());
    assert_eq!(up["owner_id"], app.owner.id.as_str());
    assert_eq!(up["filename"], "note.txt");
    assert_eq!(up["content_type"], "text/plain");
    assert_eq!(up["byte_size"], 12);
    assert_eq!(up["width"], 640);
    assert_eq!(up["height"], 480);
    assert_eq!(up["duration_ms"], 1500);
    assert_eq!(up["status"], "ready");
    assert!(up["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(up.get("storage_path").is_none(), "{up}");
    assert!(!res.text.contains(&dir.path().display().to_string()));

    let key = format!("{}/{}", app.workspace_id, id(up));
    assert_eq!(store.keys().await.unwrap(), vec![key.clone()]);
    assert_eq!(
        std::fs::read(dir.path().join(&key)).unwrap(),
        b"hello upload"
    );

    let got = download(&app, &app.member, &id(up))
        .await
        .expect(StatusCode::OK);
    assert_eq!(got.text, "hello upload");
    assert_eq!(header(&got, "content-type"), "text/plain");
    assert_eq!(header(&got, "content-length"), "12");
    assert_eq!(header(&got, "x-content-type-options"), "nosniff");
    assert_eq!(header(&got, "content-security-policy"), "sandbox");
    assert_eq!(header(&got, "accept-ranges"), "bytes");
    assert_eq!(
        header(&got, "content-disposition"),
        "inline; filename=\"note.txt\"; filename*=UTF-8''note.txt"
    );
}

/// A real 7×5 RGB PNG (75 bytes: IHDR, IDAT, IEND with valid CRCs).
const PNG_7X5: &str = "89504e470d0a1a0a0000000d494844520000000700000005080200000006f8618f0000001249444154789c63f8cfc08089b00851451400a12f22de7b957d9f0000000049454e44ae426082";

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// A baseline JPEG's segment layout, 33×17: SOI, APP0 (JFIF), an 8 KiB APP1 (EXIF-sized,
/// so the frame header lies past the first stream chunks), DQT, SOF0, DHT, SOS, data, EOI.
fn jpeg_33x17() -> Vec<u8> {
    let mut j = vec![0xff, 0xd8];
    j.extend_from_slice(&[0xff, 0xe0, 0x00, 0x10]);
    j.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let exif_len = 8 * 1024u16;
    j.extend_from_slice(&[0xff, 0xe1]);
    j.extend_from_slice(&exif_len.to_be_bytes());
    j.extend_from_slice(b"Exif\0\0");
    j.extend(std::iter::repeat_n(0u8, exif_len as usize - 8));
    j.extend_from_slice(&[0xff, 0xdb, 0x00, 0x43, 0x00]);
    j.extend(std::iter::repeat_n(1u8, 64));
    j.extend_from_slice(&[
        0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 17, 0x00, 33, 0x03, 0x01, 0x11, 0x00, 0x02, 0x11, 0x00,
        0x03, 0x11, 0x00,
    ]);
    j.extend_from_slice(&[0xff, 0xc4, 0x00, 0x14, 0x00, 0x01]);
    j.extend(std::iter::repeat_n(0u8, 16));
    j.extend_from_slice(&[
        0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00,
    ]);
    j.extend_from_slice(&[0x00, 0x3f, 0x00, 0xd2, 0xcf, 0x20, 0xff, 0xd9]);
    j
}

#[tokio::test]
async fn image_dimensions_are_read_from_the_file_and_carried_by_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = file_app(dir.path(), ChatConfig::default()).await;
    // The client claims 1×1; the server reads the headers and wins.
    let mut ids = Vec::new();
    for (name, ct, data) in [
        ("dot.png", "image/png", unhex(PNG_7X5)),
        ("photo.jpg", "image/jpeg", jpeg_33x17()),
    ] {
        let res = post_form(
            &app,
            &app.owner,
            "",
            vec![
                field("workspace_id", &app.workspace_id),
                field("width", "1"),
                file(name, ct, data),
                field("height", "1"),
            ],
        )
        .await
        .expect(StatusCode::CREATED);
        ids.push(id(&res.body["upload"]));
    }
    // Audio: only what the client says.
    let audio = post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            field("duration_ms", "2500"),
            file("note.ogg", "audio/ogg", b"OggS....".to_vec()),
        ],
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(audio.body["upload"]["duration_ms"], 2500);
    ids.push(id(&audio.body["upload"]));
    // A file that is not what it claims keeps the client's values.
    let fake = post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            field("width", "10"),
            field("height", "20"),
            file("fake.png", "image/png", b"not a png".to_vec()),
        ],
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(fake.body["upload"]["width"], 10);
    assert_eq!(fake.body["upload"]["height"], 20);

    let channel_path = format!("/api/channels/{}/messages", app.general_id);
    let posted = app
        .post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": "pics", "upload_ids": ids}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let message_id = posted.body["message"]["id"].as_str().unwrap().to_string();
    let check = |attachments: &Value| {
        let a = attachments.as_array().unwrap();
        assert_eq!(a.len(), 3, "{attachments}");
        assert_eq!(
            (a[0]["width"].clone(), a[0]["height"].clone()),
            (json!(7), json!(5))
        );
        assert_eq!(
            (a[1]["width"].clone(), a[1]["height"].clone()),
            (json!(33), json!(17))
        );
        assert!(a[0].get("duration_ms").is_none(), "{}", a[0]);
        assert_eq!(a[2]["duration_ms"], 2500);
        assert!(a[2].get("width").is_none(), "{}", a[2]);
    };
    check(&posted.body["message"]["attachments"]);
    let listed = app
        .get(&channel_path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let message = listed.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == message_id.as_str())
        .unwrap()
        .clone();
    check(&message["attachments"]);
    let single = app
        .get(&format!("/api/messages/{message_id}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    check(&single.body["message"]["attachments"]);

    // A thread reply carrying the PNG shows it in the thread too.
    let png = upload(&app, &app.member, "again.png", "image/png", &unhex(PNG_7X5)).await;
    app.post(&format!("/api/messages/{message_id}/thread/replies"))
        .token(&app.member.token)
        .json(json!({"body": "same", "upload_ids": [id(&png)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let thread = app
        .get(&format!("/api/messages/{message_id}/thread"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let replies = thread.body["replies"].as_array().unwrap();
    assert_eq!(replies[0]["attachments"][0]["width"], 7, "{}", thread.body);
    assert_eq!(replies[0]["attachments"][0]["height"], 5);
    check(&thread.body["root"]["attachments"]);
}

#[tokio::test]
async fn streamed_bodies_of_several_parts_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = file_app(dir.path(), ChatConfig::default()).await;
    // 6 MiB + a bit: past the first part, so the store writes a multipart upload.
    let data: Vec<u8> = (0..(6 << 20) + 12345).map(|i| (i % 251) as u8).collect();
    let body = multipart_body(vec![
        field("workspace_id", &app.workspace_id),
        file("clip.mp4", "video/mp4", data.clone()),
    ]);
    let res = app
        .post("/api/uploads")
        .token(&app.owner.token)
        .raw(&multipart_content_type(), streamed(body))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(res.body["upload"]["byte_size"], data.len());
    assert_eq!(store.keys().await.unwrap().len(), 1);
    let got = app
        .get(&format!("/api/uploads/{}", id(&res.body["upload"])))
        .token(&app.owner.token)
        .send()
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(header(&got, "content-type"), "video/mp4");
    assert_eq!(header(&got, "content-length"), data.len().to_string());
    assert_eq!(files_under(dir.path()).len(), 1, "no staging files left");
}

#[tokio::test]
async fn ranges_answer_206_and_bad_ranges_416() {
    let (app, _) = memory_app().await;
    let up = upload(&app, &app.owner, "digits.txt", "text/plain", b"0123456789").await;
    let path = format!("/api/uploads/{}", id(&up));
    let ranged = |range: &'static str| {
        app.get(&path)
            .token(&app.owner.token)
            .header("range", range)
            .send()
    };
    let part = ranged("bytes=2-5")
        .await
        .expect(StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.text, "2345");
    assert_eq!(header(&part, "content-range"), "bytes 2-5/10");
    assert_eq!(header(&part, "content-length"), "4");
    assert_eq!(header(&part, "x-content-type-options"), "nosniff");
    let tail = ranged("bytes=-3").await.expect(StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.text, "789");
    assert_eq!(header(&tail, "content-range"), "bytes 7-9/10");
    let open = ranged("bytes=8-").await.expect(StatusCode::PARTIAL_CONTENT);
    assert_eq!(open.text, "89");
    let clamped = ranged("bytes=6-100")
        .await
        .expect(StatusCode::PARTIAL_CONTENT);
    assert_eq!(clamped.text, "6789");
    for bad in [
        "bytes=10-",
        "bytes=20-30",
        "bytes=5-2",
        "bytes=x-1",
        "bytes=-0",
    ] {
        let res = ranged(bad).await;
        assert_eq!(res.status, StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        assert_eq!(header(&res, "content-range"), "bytes */10", "{bad}");
    }
    let whole = ranged("items=0-1").await.expect(StatusCode::OK);
    assert_eq!(whole.text, "0123456789");
}

#[tokio::test]
async fn unsafe_types_are_octet_stream_attachments() {
    let (app, _) = memory_app().await;
    for (name, declared) in [
        ("page.html", "text/html"),
        ("logo.svg", "image/svg+xml"),
        ("app.js", "application/javascript"),
        ("blob", ""),
    ] {
        let up = upload(
            &app,
            &app.owner,
            name,
            declared,
            b"<script>alert(1)</script>",
        )
        .await;
        assert_eq!(up["content_type"], "application/octet-stream", "{name}");
        let got = download(&app, &app.owner, &id(&up))
            .await
            .expect(StatusCode::OK);
        assert_eq!(header(&got, "content-type"), "application/octet-stream");
        assert_eq!(header(&got, "x-content-type-options"), "nosniff");
        assert_eq!(header(&got, "content-security-policy"), "sandbox");
        assert!(
            header(&got, "content-disposition")
                .starts_with(&format!("attachment; filename=\"{name}\"")),
            "{name}: {}",
            header(&got, "content-disposition")
        );
    }
    for (name, ct) in [
        ("cat.png", "image/png"),
        ("cat.jpg", "image/jpeg"),
        ("cat.gif", "image/gif"),
        ("cat.webp", "image/webp"),
        ("clip.webm", "video/webm"),
        ("song.ogg", "audio/ogg"),
        ("doc.pdf", "application/pdf"),
    ] {
        let up = upload(&app, &app.owner, name, ct, b"bytes").await;
        assert_eq!(up["content_type"], ct);
        let got = download(&app, &app.owner, &id(&up))
            .await
            .expect(StatusCode::OK);
        assert_eq!(header(&got, "content-type"), ct);
        assert!(
            header(&got, "content-disposition").starts_with("inline;"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn over_the_cap_is_413_and_leaves_no_object() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = file_app(dir.path(), config(1024, 1 << 30)).await;
    // A body with a Content-Length: rejected while streaming the file part.
    post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            file("big.bin", "application/octet-stream", vec![7u8; 4096]),
        ],
    )
    .await
    .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large");
    // Exactly the cap is fine.
    let ok = upload(
        &app,
        &app.owner,
        "edge.bin",
        "application/pdf",
        &[1u8; 1024],
    )
    .await;
    assert_eq!(ok["byte_size"], 1024);
    // A streamed body without Content-Length, and one far over cap + overhead.
    for size in [2048usize, 300 * 1024] {
        let body = multipart_body(vec![
            field("workspace_id", &app.workspace_id),
            file("big.bin", "image/png", vec![9u8; size]),
        ]);
        app.post("/api/uploads")
            .token(&app.owner.token)
            .raw(&multipart_content_type(), streamed(body))
            .send()
            .await
            .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large");
    }
    assert_eq!(store.keys().await.unwrap().len(), 1);
    assert_eq!(files_under(dir.path()).len(), 1);
}

#[tokio::test]
async fn over_the_cap_after_a_multipart_part_leaves_no_object() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = file_app(dir.path(), config(6 << 20, 1 << 30)).await;
    let body = multipart_body(vec![
        field("workspace_id", &app.workspace_id),
        file("huge.mp4", "video/mp4", vec![3u8; 7 << 20]),
    ]);
    app.post("/api/uploads")
        .token(&app.owner.token)
        .raw(&multipart_content_type(), streamed(body))
        .send()
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large");
    assert!(store.keys().await.unwrap().is_empty());
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

#[tokio::test]
async fn quota_is_per_user_and_workspace() {
    let (app, store) = {
        let store = UploadStore::memory();
        (
            TestApp::with_uploads(store.clone(), config(1 << 20, 10)).await,
            store,
        )
    };
    upload(&app, &app.owner, "a.txt", "text/plain", b"12345678").await;
    post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            file("b.txt", "text/plain", "12345678"),
        ],
    )
    .await
    .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_quota_exceeded");
    assert_eq!(store.keys().await.unwrap().len(), 1);
    // Another user has their own quota; a small file still fits for the owner.
    upload(&app, &app.member, "c.txt", "text/plain", b"12345678").await;
    upload(&app, &app.owner, "d.txt", "text/plain", b"12").await;
    post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            file("e.txt", "text/plain", "1"),
        ],
    )
    .await
    .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_quota_exceeded");
    assert_eq!(store.keys().await.unwrap().len(), 3);
}

#[tokio::test]
async fn outsiders_get_404_and_write_nothing() {
    let (app, store) = memory_app().await;
    post_form(
        &app,
        &app.outsider,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            file("x.txt", "text/plain", "sneaky"),
        ],
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    post_form(
        &app,
        &app.owner,
        "?workspace_id=wsp_missing",
        vec![file("x.txt", "text/plain", "lost")],
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert!(store.keys().await.unwrap().is_empty());
    let up = upload(&app, &app.owner, "x.txt", "text/plain", b"mine").await;
    download(&app, &app.outsider, &id(&up))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    download(&app, &app.member, "upl_missing")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn wrong_bodies_and_missing_credentials() {
    let (app, store) = memory_app().await;
    for path in [
        "/api/uploads",
        "/api/uploads/presign",
        "/api/uploads/by-nonce",
        "/api/uploads/upl_x",
        "/api/uploads/upl_x/complete",
        "/api/messages/msg_x/attachments",
    ] {
        let method = if path == "/api/uploads/by-nonce" || path == "/api/uploads/upl_x" {
            "GET"
        } else {
            "POST"
        };
        app.req(method.parse().unwrap(), path)
            .remote()
            .raw("text/plain", "nope")
            .send()
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    app.post("/api/uploads")
        .token(&app.owner.token)
        .json(json!({"workspace_id": app.workspace_id}))
        .send()
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    app.post("/api/uploads")
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    app.post("/api/uploads")
        .token(&app.owner.token)
        .raw("multipart/form-data", "no boundary")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_multipart");
    let ws = app.workspace_id.clone();
    let ws_query = format!("?workspace_id={ws}");
    let cases: Vec<(&str, Vec<Part>, &str)> = vec![
        ("", vec![field("workspace_id", &ws)], "file_required"),
        (
            "",
            vec![file("a.txt", "text/plain", "x"), field("workspace_id", &ws)],
            "workspace_id_required",
        ),
        (
            "",
            vec![
                field("workspace_id", &ws),
                file("a.txt", "text/plain", "x"),
                file("b.txt", "text/plain", "y"),
            ],
            "too_many_files",
        ),
        (
            "?workspace_id=wsp_other",
            vec![field("workspace_id", &ws), file("a.txt", "text/plain", "x")],
            "upload_param_mismatch",
        ),
        (
            &ws_query,
            vec![
                file("a.txt", "text/plain", "x"),
                field("workspace_id", "wsp_other"),
            ],
            "upload_param_mismatch",
        ),
        (
            "",
            vec![
                field("workspace_id", &ws),
                field("width", "-1"),
                file("a.txt", "text/plain", "x"),
            ],
            "invalid_upload_metadata",
        ),
        (
            "",
            vec![
                field("workspace_id", &ws),
                file("a.txt", "text/plain", "x"),
                field("height", "tall"),
            ],
            "invalid_upload_metadata",
        ),
        (
            "",
            vec![
                field("workspace_id", &ws),
                file("a.txt", "text/plain", "x"),
                field("duration_ms", "-5"),
            ],
            "invalid_upload_metadata",
        ),
        (
            "",
            vec![
                field("workspace_id", &ws),
                field("nonce", &"n".repeat(129)),
                file("a.txt", "text/plain", "x"),
            ],
            "invalid_nonce",
        ),
    ];
    for (query, parts, code) in cases {
        let res = post_form(&app, &app.owner, query, parts).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{code}: {}", res.text);
        assert_eq!(res.body["code"], code, "{}", res.text);
    }
    assert!(
        store.keys().await.unwrap().is_empty(),
        "no object after any 400"
    );
    // The query parameter alone is enough; the multipart field may repeat it.
    post_form(
        &app,
        &app.owner,
        &format!("?workspace_id={ws}"),
        vec![file("q.txt", "text/plain", "by query")],
    )
    .await
    .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn unconfigured_uploads_are_503_and_presign_off_s3_is_501() {
    let plain = TestApp::new().await;
    post_form(
        &plain,
        &plain.owner,
        "",
        vec![
            field("workspace_id", &plain.workspace_id),
            file("a.txt", "text/plain", "x"),
        ],
    )
    .await
    .expect_error(StatusCode::SERVICE_UNAVAILABLE, "uploads_unconfigured");

    let (app, store) = memory_app().await;
    app.post("/api/uploads/presign")
        .token(&app.owner.token)
        .json(
            json!({"workspace_id": app.workspace_id, "filename": "a.png",
            "content_type": "image/png", "byte_size": 3}),
        )
        .send()
        .await
        .expect_error(StatusCode::NOT_IMPLEMENTED, "presign_unsupported");
    assert!(store.keys().await.unwrap().is_empty());
    let caps = app
        .get("/api/capabilities")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(caps.body["limits"]["max_upload_bytes"], 64 * 1024 * 1024);
}

#[tokio::test]
async fn nonce_replays_return_the_first_upload() {
    let (app, store) = memory_app().await;
    let query = format!("?workspace_id={}&nonce=retry-1", app.workspace_id);
    let first = post_form(
        &app,
        &app.owner,
        &query,
        vec![file("a.txt", "text/plain", "one")],
    )
    .await
    .expect(StatusCode::CREATED);
    let again = post_form(
        &app,
        &app.owner,
        &query,
        vec![file("a.txt", "text/plain", "one")],
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(again.body["upload"]["id"], first.body["upload"]["id"]);
    // The nonce as a form field after the file: the new bytes are written, then dropped.
    let late = post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            file("a.txt", "text/plain", "one"),
            field("nonce", "retry-1"),
        ],
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(late.body["upload"]["id"], first.body["upload"]["id"]);
    assert_eq!(store.keys().await.unwrap().len(), 1);
    // Another user's identical nonce is their own.
    post_form(
        &app,
        &app.member,
        &query,
        vec![file("a.txt", "text/plain", "m")],
    )
    .await
    .expect(StatusCode::CREATED);

    let lookup = |ws: &str, nonce: &str| {
        app.get(&format!(
            "/api/uploads/by-nonce?workspace_id={ws}&nonce={nonce}"
        ))
        .token(&app.owner.token)
        .send()
    };
    let found = lookup(&app.workspace_id, "retry-1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(header(&found, "x-clickclack-upload-nonce"), "supported");
    assert_eq!(found.body["upload"]["id"], first.body["upload"]["id"]);
    lookup(&app.workspace_id, "never")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    let other = second_workspace(&app, &app.owner).await;
    post_form(
        &app,
        &app.owner,
        &format!("?workspace_id={other}&nonce=retry-1"),
        vec![file("a.txt", "text/plain", "one")],
    )
    .await
    .expect_error(StatusCode::CONFLICT, "nonce_conflict");
    lookup(&other, "retry-1")
        .await
        .expect_error(StatusCode::CONFLICT, "nonce_other_workspace");
    assert_eq!(store.keys().await.unwrap().len(), 2);
}

#[tokio::test]
async fn attach_is_author_only_idempotent_and_emits_message_updated() {
    let (app, _) = memory_app().await;
    let msg = app.send(&app.owner, "see attached").await;
    let msg_id = id(&msg);
    let path = format!("/api/messages/{msg_id}/attachments");
    let mine = upload(&app, &app.owner, "cat.png", "image/png", b"png").await;
    let theirs = upload(&app, &app.member, "dog.png", "image/png", b"png").await;

    app.post(&path)
        .token(&app.member.token)
        .json(json!({"upload_id": id(&theirs)}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "author_required");
    app.post(&path)
        .token(&app.outsider.token)
        .json(json!({"upload_id": id(&mine)}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"upload_id": "upl_missing"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"upload_id": ""}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "upload_id_required");

    let attached = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"upload_id": id(&mine)}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(attached.body["ok"], true);
    assert_eq!(attached.body["event"]["type"], "message.updated");
    assert_eq!(
        attached.body["event"]["payload"]["message_id"],
        msg_id.as_str()
    );
    assert_eq!(
        attached.body["message"]["attachments"][0]["id"],
        id(&mine).as_str()
    );
    assert_eq!(
        attached.body["message"]["attachments"][0]["filename"],
        "cat.png"
    );
    let again = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"upload_id": id(&mine)}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(again.body["event"].is_null());
    assert_eq!(
        again.body["message"]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Someone else's upload the caller can see (unattached, same workspace) may be attached.
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"upload_id": id(&theirs)}))
        .send()
        .await
        .expect(StatusCode::OK);
    let shown = app
        .get(&format!("/api/messages/{msg_id}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let attachments = shown.body["message"]["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert!(attachments[0].get("storage_path").is_none());

    let updates: Vec<_> = events_of(&app, &app.member)
        .await
        .into_iter()
        .filter(|e| e["type"] == "message.updated")
        .collect();
    assert_eq!(updates.len(), 2);

    let other = second_workspace(&app, &app.owner).await;
    let elsewhere = post_form(
        &app,
        &app.owner,
        &format!("?workspace_id={other}"),
        vec![file("far.txt", "text/plain", "far")],
    )
    .await
    .expect(StatusCode::CREATED);
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"upload_id": id(&elsewhere.body["upload"])}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "upload_workspace_mismatch");
}

#[tokio::test]
async fn upload_ids_on_create_attach_in_the_same_transaction() {
    let (app, _) = memory_app().await;
    let a = upload(&app, &app.owner, "a.png", "image/png", b"a").await;
    let b = upload(&app, &app.owner, "b.pdf", "application/pdf", b"b").await;
    let channel_path = format!("/api/channels/{}/messages", app.general_id);
    let posted = app
        .post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": "two files", "upload_ids": [id(&a), id(&b), id(&a)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let names: Vec<_> = posted.body["message"]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["filename"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a.png", "b.pdf"]);

    // Attachment-only messages are fine; an unknown upload rolls the whole post back.
    let c = upload(&app, &app.owner, "c.png", "image/png", b"c").await;
    app.post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": "", "upload_ids": [id(&c)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    app.post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": ""}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "body_required");
    let before = app
        .get(&channel_path)
        .token(&app.owner.token)
        .send()
        .await
        .body["messages"]
        .as_array()
        .unwrap()
        .len();
    app.post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": "broken", "upload_ids": [id(&c), "upl_missing"]}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let after = app.get(&channel_path).token(&app.owner.token).send().await;
    assert_eq!(after.body["messages"].as_array().unwrap().len(), before);
    let too_many: Vec<String> = (0..11).map(|i| format!("upl_{i}")).collect();
    app.post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": "many", "upload_ids": too_many}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "too_many_uploads");

    // Thread replies and DM messages take upload_ids too.
    let root = id(&posted.body["message"]);
    let d = upload(&app, &app.owner, "d.txt", "text/plain", b"d").await;
    let reply = app
        .post(&format!("/api/messages/{root}/thread/replies"))
        .token(&app.owner.token)
        .json(json!({"body": "in thread", "upload_ids": [id(&d)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        reply.body["message"]["attachments"][0]["id"],
        id(&d).as_str()
    );
    let thread = app
        .get(&format!("/api/messages/{root}/thread"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        thread.body["replies"][0]["attachments"][0]["id"],
        id(&d).as_str()
    );
    let dm = create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    let e = upload(&app, &app.owner, "e.txt", "text/plain", b"e").await;
    let dm_post = app
        .post(&format!("/api/dms/{}/messages", id(&dm)))
        .token(&app.owner.token)
        .json(json!({"body": "psst", "upload_id": id(&e)}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        dm_post.body["message"]["attachments"][0]["id"],
        id(&e).as_str()
    );
}

#[tokio::test]
async fn deleting_the_message_hides_the_attachment_and_the_download() {
    let (app, _) = memory_app().await;
    let up = upload(&app, &app.owner, "gone.txt", "text/plain", b"bye").await;
    let posted = app
        .post(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .json(json!({"body": "soon gone", "upload_ids": [id(&up)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let msg_id = id(&posted.body["message"]);
    download(&app, &app.member, &id(&up))
        .await
        .expect(StatusCode::OK);
    app.delete(&format!("/api/messages/{msg_id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let shown = app
        .get(&format!("/api/messages/{msg_id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(shown.body["message"]
        .get("attachments")
        .is_none_or(|a| a == &json!([])));
    for who in [&app.owner, &app.member] {
        download(&app, who, &id(&up))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    // A deleted message takes no new attachments.
    let other = upload(&app, &app.owner, "late.txt", "text/plain", b"late").await;
    app.post(&format!("/api/messages/{msg_id}/attachments"))
        .token(&app.owner.token)
        .json(json!({"upload_id": id(&other)}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "message_deleted");
}

#[tokio::test]
async fn dm_attachments_are_private_to_the_conversation() {
    let (app, _) = memory_app().await;
    let cook = third_member(&app).await;
    let dm = create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    let dm_id = id(&dm);
    let secret = upload(&app, &app.owner, "secret.pdf", "application/pdf", b"%PDF").await;
    // Before it is attached, workspace members may fetch it.
    download(&app, &cook, &id(&secret))
        .await
        .expect(StatusCode::OK);
    let posted = app
        .post(&format!("/api/dms/{dm_id}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "just us"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let msg_id = id(&posted.body["message"]);
    let attached = app
        .post(&format!("/api/messages/{msg_id}/attachments"))
        .token(&app.owner.token)
        .json(json!({"upload_id": id(&secret)}))
        .send()
        .await
        .expect(StatusCode::OK);
    let event_id = attached.body["event"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        attached.body["event"]["payload"]["direct_conversation_id"],
        dm_id.as_str()
    );

    download(&app, &app.member, &id(&secret))
        .await
        .expect(StatusCode::OK);
    download(&app, &cook, &id(&secret))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let member_events = events_of(&app, &app.member).await;
    assert!(member_events.iter().any(|e| e["id"] == event_id.as_str()));
    let cook_events = events_of(&app, &cook).await;
    assert!(!cook_events.iter().any(|e| e["id"] == event_id.as_str()));

    // The cook cannot launder it into a channel message either.
    let cooks_msg = app.send(&cook, "what is this").await;
    app.post(&format!("/api/messages/{}/attachments", id(&cooks_msg)))
        .token(&cook.token)
        .json(json!({"upload_id": id(&secret)}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&format!("/api/channels/{}/messages", app.general_id))
        .token(&cook.token)
        .json(json!({"body": "leak", "upload_ids": [id(&secret)]}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    // The uploader keeps access to their own file when someone sends it in a DM.
    let cooks = upload(&app, &cook, "menu.txt", "text/plain", b"soup").await;
    app.post(&format!("/api/dms/{dm_id}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "fwd", "upload_ids": [id(&cooks)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let got = download(&app, &cook, &id(&cooks))
        .await
        .expect(StatusCode::OK);
    assert_eq!(got.text, "soup");
    let fourth = app
        .chat
        .admin_create_user("Deckhand", "deck@example.com", Some(&app.workspace_id))
        .await
        .unwrap();
    let deckhand = Person {
        token: app.chat.create_session(&fourth.id).await.unwrap().token,
        id: fourth.id,
    };
    download(&app, &deckhand, &id(&cooks))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

// ---- S3 (s3s-fs) ---------------------------------------------------------------------------

const ACCESS_KEY: &str = "clickclack-test-ak";
const SECRET_KEY: &str = "clickclack-test-secret-key";
const BUCKET: &str = "clickclack";

/// A local `s3s-fs` on a free loopback port; killed on drop.
struct S3Server {
    child: std::process::Child,
    port: u16,
    _root: tempfile::TempDir,
}

impl S3Server {
    async fn start() -> S3Server {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start s3s-fs ({e}): the S3 upload tests need it on PATH; \
                     run scripts/install-test-deps"
                )
            });
        let server = S3Server {
            child,
            port,
            _root: root,
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("s3s-fs did not start listening on 127.0.0.1:{port}");
    }

    fn store(&self) -> UploadStore {
        let vars = [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            (
                "CLICKCLACK_S3_ENDPOINT",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("CLICKCLACK_S3_PATH_STYLE", "true".to_string()),
        ];
        UploadStore::open_with_env(
            &format!("s3://{BUCKET}/uploads"),
            vars.into_iter().map(|(k, v)| (k.to_string(), v)),
        )
        .unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows a 302 from the API to the presigned URL and returns the store's answer.
async fn follow(res: &Res) -> reqwest::Response {
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.text);
    let location = header(res, "location");
    assert!(location.contains("X-Amz-Signature="), "{location}");
    http().get(location).send().await.unwrap()
}

#[tokio::test]
async fn s3_streamed_uploads_and_redirected_downloads() {
    let s3 = S3Server::start().await;
    let store = s3.store();
    assert!(store.can_presign());
    let app = TestApp::with_uploads(store.clone(), ChatConfig::default()).await;

    let small = upload(&app, &app.owner, "hello.txt", "text/plain", b"hello s3").await;
    let res = download(&app, &app.member, &id(&small)).await;
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    let fetched = follow(&res).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "text/plain");
    assert_eq!(
        fetched.headers()["content-disposition"],
        "inline; filename=\"hello.txt\"; filename*=UTF-8''hello.txt"
    );
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"hello s3");

    // Over 5 MiB: a real multipart upload, streamed from a body without Content-Length.
    let data: Vec<u8> = (0..(7 << 20) + 99).map(|i| (i % 253) as u8).collect();
    let body = multipart_body(vec![
        field("workspace_id", &app.workspace_id),
        file("page.html", "text/html", data.clone()),
    ]);
    let big = app
        .post("/api/uploads")
        .token(&app.owner.token)
        .raw(&multipart_content_type(), streamed(body))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let big_id = id(&big.body["upload"]);
    assert_eq!(
        big.body["upload"]["content_type"],
        "application/octet-stream"
    );
    let fetched = follow(&download(&app, &app.owner, &big_id).await).await;
    assert_eq!(
        fetched.headers()["content-type"],
        "application/octet-stream"
    );
    assert!(fetched.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(fetched.bytes().await.unwrap().len(), data.len());
    let ranged = http()
        .get(header(
            &download(&app, &app.owner, &big_id).await,
            "location",
        ))
        .header("range", "bytes=6291456-6291459")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.bytes().await.unwrap().as_ref(),
        &data[6291456..6291460]
    );

    let mut keys = store.keys().await.unwrap();
    keys.sort();
    let mut expected = vec![
        format!("{}/{}", app.workspace_id, id(&small)),
        format!("{}/{big_id}", app.workspace_id),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    // Outsiders still get 404, not a redirect.
    download(&app, &app.outsider, &big_id)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn s3_presigned_put_complete_and_download() {
    let s3 = S3Server::start().await;
    let store = s3.store();
    let app = TestApp::with_uploads(store.clone(), ChatConfig::default()).await;
    let data: Vec<u8> = (0..300_000).map(|i| (i % 241) as u8).collect();
    let presign = |nonce: &str| {
        app.post("/api/uploads/presign")
            .token(&app.owner.token)
            .json(
                json!({"workspace_id": app.workspace_id, "filename": "dir/clip.mp4",
                "content_type": "video/mp4", "byte_size": data.len(), "nonce": nonce,
                "width": 1920, "height": 1080, "duration_ms": 4000}),
            )
            .send()
    };
    let signed = presign("clip-1").await.expect(StatusCode::CREATED);
    let up = signed.body["upload"].clone();
    let upload_id = id(&up);
    assert_eq!(up["status"], "pending");
    assert_eq!(up["filename"], "clip.mp4");
    assert_eq!(up["width"], 1920);
    assert_eq!(signed.body["method"], "PUT");
    assert!(signed.body["expires_at"].as_str().unwrap().ends_with('Z'));
    let url = signed.body["url"].as_str().unwrap().to_string();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let headers = signed.body["headers"].as_object().unwrap().clone();
    assert_eq!(headers["Content-Type"], "video/mp4");

    // Pending uploads are invisible and cannot be attached; completing before the PUT is 409.
    download(&app, &app.owner, &upload_id)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let complete_path = format!("/api/uploads/{upload_id}/complete");
    app.post(&complete_path)
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "upload_incomplete");
    // A retry with the nonce re-signs the same upload.
    let replay = presign("clip-1").await.expect(StatusCode::OK);
    assert_eq!(replay.body["upload"]["id"], upload_id.as_str());
    assert!(replay.body["url"].is_string());

    let mut put = http().put(&url).body(data.clone());
    for (name, value) in &headers {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    let put = put.send().await.unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);

    app.post(&complete_path)
        .token(&app.member.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let done = app
        .post(&complete_path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(done.body["upload"]["status"], "ready");
    assert_eq!(done.body["upload"]["byte_size"], data.len());
    app.post(&complete_path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);

    let fetched = follow(&download(&app, &app.member, &upload_id).await).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "video/mp4");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), data.as_slice());

    // Completing an image reads its dimensions from the stored object's header.
    let png = unhex(PNG_7X5);
    let signed = app
        .post("/api/uploads/presign")
        .token(&app.owner.token)
        .json(
            json!({"workspace_id": app.workspace_id, "filename": "dot.png",
            "content_type": "image/png", "byte_size": png.len(), "width": 1, "height": 1}),
        )
        .send()
        .await
        .expect(StatusCode::CREATED);
    let png_id = id(&signed.body["upload"]);
    let mut put = http()
        .put(signed.body["url"].as_str().unwrap())
        .body(png.clone());
    for (name, value) in signed.body["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    let done = app
        .post(&format!("/api/uploads/{png_id}/complete"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(done.body["upload"]["width"], 7);
    assert_eq!(done.body["upload"]["height"], 5);
    app.post(&format!("/api/messages/{}/attachments", {
        app.post(&format!("/api/channels/{}/messages", app.general_id))
            .token(&app.owner.token)
            .json(json!({"body": "dot"}))
            .send()
            .await
            .expect(StatusCode::CREATED)
            .body["message"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }))
    .token(&app.owner.token)
    .json(json!({"upload_id": png_id}))
    .send()
    .await
    .expect(StatusCode::OK);
    let swept_keys = vec![
        format!("{}/{upload_id}", app.workspace_id),
        format!("{}/{png_id}", app.workspace_id),
    ];

    // A PUT of the wrong size is rejected at completion and its object removed.
    let short = app
        .post("/api/uploads/presign")
        .token(&app.owner.token)
        .json(
            json!({"workspace_id": app.workspace_id, "filename": "short.txt",
            "content_type": "text/plain", "byte_size": 10}),
        )
        .send()
        .await
        .expect(StatusCode::CREATED);
    let short_id = id(&short.body["upload"]);
    http()
        .put(short.body["url"].as_str().unwrap())
        .header("content-type", "text/plain")
        .body("12345")
        .send()
        .await
        .unwrap();
    app.post(&format!("/api/uploads/{short_id}/complete"))
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "upload_size_mismatch");
    let mut keys = store.keys().await.unwrap();
    keys.sort();
    let mut expected = swept_keys;
    expected.sort();
    assert_eq!(keys, expected);
    // Over the cap before anything is signed.
    app.post("/api/uploads/presign")
        .token(&app.owner.token)
        .json(
            json!({"workspace_id": app.workspace_id, "filename": "huge.bin",
            "byte_size": 65 * 1024 * 1024}),
        )
        .send()
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large");
    app.post("/api/uploads/presign")
        .token(&app.outsider.token)
        .json(json!({"workspace_id": app.workspace_id, "filename": "x.bin", "byte_size": 1}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn s3_presigned_put_without_the_safe_headers_is_streamed_not_redirected() {
    let s3 = S3Server::start().await;
    let app = TestApp::with_uploads(s3.store(), ChatConfig::default()).await;
    let signed = app
        .post("/api/uploads/presign")
        .token(&app.owner.token)
        .json(
            json!({"workspace_id": app.workspace_id, "filename": "x.txt",
            "content_type": "text/plain", "byte_size": 13}),
        )
        .send()
        .await
        .expect(StatusCode::CREATED);
    let upload_id = id(&signed.body["upload"]);
    // The client ignores the headers and claims HTML.
    http()
        .put(signed.body["url"].as_str().unwrap())
        .header("content-type", "text/html")
        .body("<b>hello</b>!")
        .send()
        .await
        .unwrap();
    app.post(&format!("/api/uploads/{upload_id}/complete"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let got = download(&app, &app.owner, &upload_id)
        .await
        .expect(StatusCode::OK);
    assert_eq!(got.text, "<b>hello</b>!");
    assert_eq!(header(&got, "content-type"), "text/plain");
    assert_eq!(header(&got, "content-security-policy"), "sandbox");
}

#[tokio::test]
async fn s3_over_the_cap_leaves_no_object() {
    let s3 = S3Server::start().await;
    let store = s3.store();
    let app = TestApp::with_uploads(store.clone(), config(6 << 20, 1 << 30)).await;
    for size in [(6 << 20) + 1, 9 << 20] {
        let body = multipart_body(vec![
            field("workspace_id", &app.workspace_id),
            file("big.bin", "application/pdf", vec![1u8; size]),
        ]);
        app.post("/api/uploads")
            .token(&app.owner.token)
            .raw(&multipart_content_type(), streamed(body))
            .send()
            .await
            .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large");
    }
    assert!(store.keys().await.unwrap().is_empty());
    // The cap itself still fits (one full part plus a short last part).
    upload(
        &app,
        &app.owner,
        "max.pdf",
        "application/pdf",
        &vec![2u8; 6 << 20],
    )
    .await;
    assert_eq!(store.keys().await.unwrap().len(), 1);
}

#[tokio::test]
async fn s3_sweep_removes_expired_pending_uploads_and_their_objects() {
    let s3 = S3Server::start().await;
    let store = s3.store();
    let app = TestApp::with_uploads(store.clone(), config(1 << 20, 100)).await;
    let presign = |name: &str, size: usize| {
        app.post("/api/uploads/presign")
            .token(&app.owner.token)
            .json(json!({"workspace_id": app.workspace_id, "filename": name,
                "content_type": "text/plain", "byte_size": size}))
            .send()
    };
    // Never PUT; PUT but never completed; and a ready orphan.
    let never = id(&presign("never.txt", 40)
        .await
        .expect(StatusCode::CREATED)
        .body["upload"]);
    let put = presign("put.txt", 40).await.expect(StatusCode::CREATED);
    let landed = id(&put.body["upload"]);
    let mut req = http()
        .put(put.body["url"].as_str().unwrap())
        .body(vec![b'x'; 40]);
    for (name, value) in put.body["headers"].as_object().unwrap() {
        req = req.header(name.as_str(), value.as_str().unwrap());
    }
    assert!(req.send().await.unwrap().status().is_success());
    let orphan = upload(&app, &app.owner, "orphan.txt", "text/plain", b"0123456789").await;
    // The two reservations (80 of 100 bytes) plus the orphan fill the quota.
    presign("more.txt", 11)
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_quota_exceeded");
    assert_eq!(store.keys().await.unwrap().len(), 2);

    // Inside the pending grace nothing happens; two hours on both pending uploads go.
    let now = clickclack_runtime::clock::now();
    let policy = clickclack_runtime::chat::SweepPolicy::default();
    let early = app
        .chat
        .sweep_uploads(now + std::time::Duration::from_secs(30 * 60), &policy)
        .await
        .unwrap();
    assert_eq!(early.removed, 0);
    let report = app
        .chat
        .sweep_uploads(now + std::time::Duration::from_secs(2 * 3600), &policy)
        .await
        .unwrap();
    assert_eq!(
        (report.removed, report.expired_pending),
        (2, 2),
        "{report:?}"
    );
    let mut swept: Vec<_> = report.uploads.iter().map(|u| u.id.clone()).collect();
    swept.sort();
    let mut expected = vec![never.clone(), landed.clone()];
    expected.sort();
    assert_eq!(swept, expected);
    assert_eq!(
        store.keys().await.unwrap(),
        vec![format!("{}/{}", app.workspace_id, id(&orphan))]
    );
    app.post(&format!("/api/uploads/{landed}/complete"))
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    // The orphan is still downloadable (within its grace); the quota is free again.
    let got = follow(&download(&app, &app.owner, &id(&orphan)).await).await;
    assert_eq!(got.status(), 200);
    presign("more.txt", 80).await.expect(StatusCode::CREATED);
}

#[tokio::test]
async fn sweep_frees_the_quota_of_orphans_and_of_deleted_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = file_app(dir.path(), config(1 << 20, 30)).await;
    let kept = upload(&app, &app.owner, "kept.txt", "text/plain", b"0123456789").await;
    let dead = upload(&app, &app.owner, "dead.txt", "text/plain", b"0123456789").await;
    let orphan = upload(&app, &app.owner, "orphan.txt", "text/plain", b"0123456789").await;
    let channel_path = format!("/api/channels/{}/messages", app.general_id);
    app.post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": "kept", "upload_ids": [id(&kept)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let gone = app
        .post(&channel_path)
        .token(&app.owner.token)
        .json(json!({"body": "dead", "upload_ids": [id(&dead)]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    app.delete(&format!(
        "/api/messages/{}",
        gone.body["message"]["id"].as_str().unwrap()
    ))
    .token(&app.owner.token)
    .send()
    .await
    .expect(StatusCode::OK);
    post_form(
        &app,
        &app.owner,
        "",
        vec![
            field("workspace_id", &app.workspace_id),
            file("more.txt", "text/plain", b"x".to_vec()),
        ],
    )
    .await
    .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_quota_exceeded");

    let now = clickclack_runtime::clock::now() + std::time::Duration::from_secs(25 * 3600);
    let report = app
        .chat
        .sweep_uploads(now, &clickclack_runtime::chat::SweepPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        (report.orphaned, report.deleted_messages, report.bytes_freed),
        (1, 1, 20)
    );
    assert_eq!(
        store.keys().await.unwrap(),
        vec![format!("{}/{}", app.workspace_id, id(&kept))]
    );
    download(&app, &app.member, &id(&orphan))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    download(&app, &app.member, &id(&kept))
        .await
        .expect(StatusCode::OK);
    upload(&app, &app.owner, "more.txt", "text/plain", b"0123456789").await;
}
