//! `admin uploads sweep` against a data directory another process wrote: a real
//! `file://` upload store under `<data>/uploads`.

use super::common::clickclack_async;
use axum::body::Bytes;
use clickclack_runtime::chat::{Actor, Chat, ChatConfig, NewPost, NewUpload};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use clickclack_runtime::uploads::UploadStore;
use serde_json::Value;
use std::path::Path;

/// Bootstraps `<data>` with two uploads: one attached to a message, one orphan created two
/// days ago. Returns (attached id, orphan id).
async fn seed(data: &Path) -> (String, String) {
    let store = Store::open(StoreOptions::new(
        DbLocation::parse(data.join("clickclack.db").to_str().unwrap()).unwrap(),
    ))
    .await
    .unwrap();
    let uploads = UploadStore::open(&format!("file://{}", data.join("uploads").display())).unwrap();
    let chat = Chat::new(store, ChatConfig::default()).with_uploads(uploads);
    let boot = chat.bootstrap("Owner", "owner@example.com").await.unwrap();
    let owner = Actor::new(boot.user.clone());
    let workspace = boot.workspace.unwrap().id;
    let mut ids = Vec::new();
    for name in ["kept.txt", "orphan.txt"] {
        let created = chat
            .create_upload(
                &owner,
                NewUpload {
                    workspace_id: workspace.clone(),
                    filename: Some(name.into()),
                    content_type: Some("text/plain".into()),
                    ..NewUpload::default()
                },
                futures::stream::iter(vec![Ok(Bytes::from_static(b"hello"))]),
            )
            .await
            .unwrap();
        ids.push(created.upload.id);
    }
    chat.post_channel_message(
        &owner,
        &boot.channel.unwrap().id,
        NewPost {
            body: "a file".into(),
            upload_ids: vec![ids[0].clone()],
            ..NewPost::default()
        },
    )
    .await
    .unwrap();
    let old = clickclack_runtime::clock::format(
        clickclack_runtime::clock::now() - std::time::Duration::from_secs(2 * 86_400),
    );
    chat.store()
        .connect()
        .unwrap()
        .execute(
            "UPDATE uploads SET created_at = ?2 WHERE id = ?1",
            (ids[1].as_str(), old.as_str()),
        )
        .await
        .unwrap();
    chat.store().close().await;
    (ids[0].clone(), ids[1].clone())
}

fn object(data: &Path, id: &str) -> Option<std::path::PathBuf> {
    let root = data.join("uploads");
    for ws in std::fs::read_dir(&root).ok()?.flatten() {
        let path = ws.path().join(id);
        if path.is_file() {
            return Some(path);
        }
    }
    None
}

#[tokio::test]
async fn sweep_dry_run_then_for_real() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (kept, orphan) = seed(&data).await;
    assert!(object(&data, &kept).is_some() && object(&data, &orphan).is_some());
    let data_arg = data.to_str().unwrap();

    let dry = clickclack_async(
        dir.path(),
        &[
            "admin",
            "uploads",
            "sweep",
            "--dry-run",
            "--json",
            "--data",
            data_arg,
        ],
    )
    .await;
    let report: Value = serde_json::from_str(dry.ok()).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["removed"], 1);
    assert_eq!(report["orphaned"], 1);
    assert_eq!(report["bytes_freed"], 5);
    assert_eq!(report["uploads"][0]["id"], orphan.as_str());
    assert_eq!(report["uploads"][0]["reason"], "orphaned");
    assert!(
        object(&data, &orphan).is_some(),
        "a dry run deletes nothing"
    );

    // A longer grace keeps the two-day-old orphan.
    let patient = clickclack_async(
        dir.path(),
        &[
            "admin",
            "uploads",
            "sweep",
            "--orphan-grace-hours",
            "72",
            "--data",
            data_arg,
        ],
    )
    .await;
    assert!(
        patient.ok().starts_with("removed 0 upload(s)"),
        "{patient:?}"
    );
    assert!(object(&data, &orphan).is_some());

    let swept = clickclack_async(
        dir.path(),
        &["admin", "uploads", "sweep", "--data", data_arg],
    )
    .await;
    let text = swept.ok();
    assert!(
        text.contains(&format!("removed {orphan} (orphaned, 5 bytes")),
        "{text}"
    );
    assert!(text.ends_with("5 bytes freed"), "{text}");
    assert!(object(&data, &orphan).is_none());
    assert!(object(&data, &kept).is_some());

    let again = clickclack_async(
        dir.path(),
        &["admin", "uploads", "sweep", "--json", "--data", data_arg],
    )
    .await;
    let report: Value = serde_json::from_str(again.ok()).unwrap();
    assert_eq!(report["removed"], 0);
}

#[tokio::test]
async fn sweep_rejects_a_bad_uploads_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = clickclack_async(
        dir.path(),
        &[
            "admin",
            "uploads",
            "sweep",
            "--uploads",
            "ftp://nowhere",
            "--data",
            dir.path().join("data").to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, 2, "{out:?}");
}

#[tokio::test]
async fn the_periodic_sweep_runs_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (kept, orphan) = seed(&data).await;
    let store = Store::open(StoreOptions::new(
        DbLocation::parse(data.join("clickclack.db").to_str().unwrap()).unwrap(),
    ))
    .await
    .unwrap();
    let uploads = UploadStore::open(&format!("file://{}", data.join("uploads").display())).unwrap();
    let chat = Chat::new(store, ChatConfig::default()).with_uploads(uploads);
    let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(clickclack::commands::uploads::run_periodic(
        chat.clone(),
        clickclack::commands::uploads::policy(None, None).unwrap(),
        std::time::Duration::from_millis(20),
        async move {
            let _ = stopping.await;
        },
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while object(&data, &orphan).is_some() {
        assert!(std::time::Instant::now() < deadline, "the sweep never ran");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(object(&data, &kept).is_some());
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("the sweep stops on shutdown")
        .unwrap();
    chat.store().close().await;
}
