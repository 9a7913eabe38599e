//! Upload metadata on attachments and the upload sweep, on a real `file://` store in a
//! temp directory; the sweep's clock is the `now` argument.

use crate::World;
use bytes::Bytes;
use chrono::Duration;
use clickclack_runtime::chat::{
    Actor, Chat, NewPost, NewUpload, PageQuery, SweepPolicy, SweepReason, UploadDetails,
};
use clickclack_runtime::uploads::UploadStore;
use futures::stream;

/// A 3×2 PNG (signature + IHDR are all the server reads).
fn png_3x2() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&3u32.to_be_bytes());
    png.extend_from_slice(&2u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png
}

struct Uploads {
    world: World,
    chat: Chat,
    store: UploadStore,
    _objects: tempfile::TempDir,
}

async fn world_with_uploads() -> Uploads {
    let world = World::new().await;
    let objects = tempfile::tempdir().unwrap();
    let store = UploadStore::open(&format!("file://{}", objects.path().display())).unwrap();
    let chat = world.chat.clone().with_uploads(store.clone());
    Uploads {
        world,
        chat,
        store,
        _objects: objects,
    }
}

async fn upload(u: &Uploads, actor: &Actor, name: &str, ty: &str, bytes: Vec<u8>) -> UploadDetails {
    u.chat
        .create_upload(
            actor,
            NewUpload {
                workspace_id: u.world.workspace.id.clone(),
                filename: Some(name.into()),
                content_type: Some(ty.into()),
                // Client values: overridden by the header for images.
                width: Some(99),
                height: Some(99),
                duration_ms: Some(1234),
                nonce: None,
            },
            stream::iter(vec![Ok(Bytes::from(bytes))]),
        )
        .await
        .unwrap()
        .upload
}

async fn post_with(u: &Uploads, ids: &[&str]) -> String {
    u.chat
        .post_channel_message(
            &u.world.owner,
            &u.world.general.id,
            NewPost {
                body: "file".into(),
                upload_ids: ids.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .message
        .id
}

async fn sql(u: &Uploads, statement: &str, params: Vec<libsql::Value>) {
    let conn = u.chat.store().connect().unwrap();
    conn.execute(statement, params).await.unwrap();
}

async fn upload_ids(u: &Uploads) -> Vec<String> {
    let conn = u.chat.store().connect().unwrap();
    let mut rows = conn
        .query("SELECT id FROM uploads ORDER BY id", ())
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        out.push(row.get::<String>(0).unwrap());
    }
    out
}

fn key(u: &Uploads, id: &str) -> String {
    format!("{}/{id}", u.world.workspace.id)
}

#[tokio::test]
async fn image_dimensions_come_from_the_file_and_reach_attachments() {
    let u = world_with_uploads().await;
    let owner = u.world.owner.clone();
    let png = upload(&u, &owner, "a.png", "image/png", png_3x2()).await;
    assert_eq!((png.width, png.height), (Some(3), Some(2)));
    // Not an image: the client's values stay.
    let audio = upload(&u, &owner, "a.ogg", "audio/ogg", b"OggS".to_vec()).await;
    assert_eq!(
        (audio.width, audio.height, audio.duration_ms),
        (Some(99), Some(99), Some(1234))
    );
    let message = post_with(&u, &[&png.id, &audio.id]).await;
    let page = u
        .chat
        .list_channel_messages(&owner, &u.world.general.id, &PageQuery::default())
        .await
        .unwrap();
    let listed = page.messages.iter().find(|m| m.id == message).unwrap();
    let a = &listed.attachments;
    assert_eq!(
        (a[0].width, a[0].height, a[0].duration_ms),
        (Some(3), Some(2), Some(1234))
    );
    assert_eq!(a[1].duration_ms, Some(1234));
    let single = u.chat.get_message(&owner, &message).await.unwrap();
    assert_eq!(single.attachments[0].width, Some(3));
    let json = serde_json::to_value(&single.attachments[0]).unwrap();
    assert_eq!(json["height"], 2);
}

#[tokio::test]
async fn sweep_removes_expired_pending_orphans_and_dead_attachments_only() {
    let u = world_with_uploads().await;
    let owner = u.world.owner.clone();
    let now = clickclack_runtime::clock::now();
    let attached = upload(&u, &owner, "kept.txt", "text/plain", b"kept".to_vec()).await;
    let old_orphan = upload(&u, &owner, "old.txt", "text/plain", b"old".to_vec()).await;
    let new_orphan = upload(&u, &owner, "new.txt", "text/plain", b"new".to_vec()).await;
    let dead = upload(&u, &owner, "dead.txt", "text/plain", b"dead".to_vec()).await;
    post_with(&u, &[&attached.id]).await;
    let gone = post_with(&u, &[&dead.id]).await;
    u.chat.delete_message(&owner, &gone).await.unwrap();
    // The old orphan was created two days ago.
    sql(
        &u,
        "UPDATE uploads SET created_at = ?2 WHERE id = ?1",
        vec![
            old_orphan.id.clone().into(),
            clickclack_runtime::clock::format(now - Duration::days(2)).into(),
        ],
    )
    .await;
    // Two presigned uploads that were never completed: one expired 2 h ago (past the 1 h
    // grace), one 10 minutes ago (within it). The first one's bytes did land.
    for (id, expired) in [("upl_pending_old", 120), ("upl_pending_new", 10)] {
        sql(
            &u,
            "INSERT INTO uploads (id, workspace_id, owner_id, filename, content_type, byte_size,
                storage_path, created_at, status, pending_expires_at_ms)
             VALUES (?1, ?2, ?3, 'p.bin', 'application/octet-stream', 4, ?4, ?5, 'pending', ?6)",
            vec![
                id.into(),
                u.world.workspace.id.clone().into(),
                owner.id().to_string().into(),
                key(&u, id).into(),
                clickclack_runtime::clock::format(now - Duration::hours(3)).into(),
                (now - Duration::minutes(expired)).timestamp_millis().into(),
            ],
        )
        .await;
    }
    u.store
        .put_stream(
            &key(&u, "upl_pending_old"),
            stream::iter(vec![Ok(Bytes::from_static(b"late"))]),
            100,
            &clickclack_runtime::uploads::ObjectHeaders {
                content_type: "application/octet-stream".into(),
                content_disposition: "attachment".into(),
            },
        )
        .await
        .unwrap();
    let all_rows = upload_ids(&u).await;
    let all_keys = u.store.keys().await.unwrap();
    assert_eq!(all_rows.len(), 6);
    assert_eq!(all_keys.len(), 5);

    // Dry run: reports, changes nothing.
    let dry = u
        .chat
        .sweep_uploads(
            now,
            &SweepPolicy {
                dry_run: true,
                ..SweepPolicy::default()
            },
        )
        .await
        .unwrap();
    assert!(dry.dry_run);
    let mut reported: Vec<(String, SweepReason)> = dry
        .uploads
        .iter()
        .map(|s| (s.id.clone(), s.reason))
        .collect();
    reported.sort();
    let mut expected = vec![
        (old_orphan.id.clone(), SweepReason::Orphaned),
        (dead.id.clone(), SweepReason::DeletedMessages),
        ("upl_pending_old".to_string(), SweepReason::ExpiredPending),
    ];
    expected.sort();
    assert_eq!(reported, expected);
    assert_eq!(dry.bytes_freed, 3 + 4);
    assert_eq!(upload_ids(&u).await, all_rows);
    assert_eq!(u.store.keys().await.unwrap(), all_keys);

    // For real.
    let report = u
        .chat
        .sweep_uploads(now, &SweepPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        (
            report.removed,
            report.expired_pending,
            report.orphaned,
            report.deleted_messages
        ),
        (3, 1, 1, 1)
    );
    assert!(report.failures.is_empty());
    let mut left = vec![
        attached.id.clone(),
        new_orphan.id.clone(),
        "upl_pending_new".to_string(),
    ];
    left.sort();
    assert_eq!(upload_ids(&u).await, left);
    assert_eq!(u.store.keys().await.unwrap(), {
        let mut k = vec![key(&u, &attached.id), key(&u, &new_orphan.id)];
        k.sort();
        k
    });

    // A day later the young orphan and the other pending upload go too; the attached one
    // never does.
    let later = u
        .chat
        .sweep_uploads(now + Duration::hours(25), &SweepPolicy::default())
        .await
        .unwrap();
    assert_eq!((later.orphaned, later.expired_pending), (1, 1));
    assert_eq!(upload_ids(&u).await, vec![attached.id.clone()]);
    assert_eq!(u.store.keys().await.unwrap(), vec![key(&u, &attached.id)]);
    let much_later = u
        .chat
        .sweep_uploads(now + Duration::days(365), &SweepPolicy::default())
        .await
        .unwrap();
    assert_eq!(much_later.removed, 0);
    // Still downloadable.
    u.chat.open_upload(&owner, &attached.id).await.unwrap();
}

#[tokio::test]
async fn sweep_keeps_dead_attachments_when_told_and_finishes_marked_rows() {
    let u = world_with_uploads().await;
    let owner = u.world.owner.clone();
    let dead = upload(&u, &owner, "dead.txt", "text/plain", b"dead".to_vec()).await;
    let gone = post_with(&u, &[&dead.id]).await;
    u.chat.delete_message(&owner, &gone).await.unwrap();
    let now = clickclack_runtime::clock::now();
    let keep = SweepPolicy {
        deleted_messages: false,
        ..SweepPolicy::default()
    };
    assert_eq!(u.chat.sweep_uploads(now, &keep).await.unwrap().removed, 0);
    assert_eq!(upload_ids(&u).await, vec![dead.id.clone()]);

    // A row an earlier sweep marked (its object delete failed) is invisible and finished.
    let orphan = upload(&u, &owner, "o.txt", "text/plain", b"o".to_vec()).await;
    sql(
        &u,
        "UPDATE uploads SET status = 'deleting' WHERE id = ?1",
        vec![orphan.id.clone().into()],
    )
    .await;
    assert_eq!(
        u.chat
            .open_upload(&owner, &orphan.id)
            .await
            .unwrap_err()
            .code,
        "not_found"
    );
    let report = u.chat.sweep_uploads(now, &keep).await.unwrap();
    assert_eq!((report.removed, report.unfinished), (1, 1));
    assert_eq!(report.bytes_freed, 0);
    assert_eq!(upload_ids(&u).await, vec![dead.id.clone()]);
    assert_eq!(u.store.keys().await.unwrap(), vec![key(&u, &dead.id)]);
}
