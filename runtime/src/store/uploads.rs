//! Upload rows as message attachments, and the queries of the upload sweep
//! ([`crate::chat::Chat::sweep_uploads`]). The upload use cases keep their own row queries
//! in `chat/uploads.rs`.

use super::rows::query_all;
use crate::model::Upload;
use crate::Result;
use libsql::{Connection, Row};

/// The columns of an attachment, with the upload table aliased `u`; read them with
/// [`attachment_from_row`].
pub(crate) const ATTACHMENT_COLUMNS: &str = "u.id, u.workspace_id, u.owner_id, u.filename, \
     u.content_type, u.byte_size, u.width, u.height, u.duration_ms, u.created_at";

/// An attachment from [`ATTACHMENT_COLUMNS`] starting at column `at`.
pub(crate) fn attachment_from_row(r: &Row, at: i32) -> Result<Upload> {
    Ok(Upload {
        id: r.get(at)?,
        workspace_id: r.get(at + 1)?,
        owner_id: r.get(at + 2)?,
        filename: r.get(at + 3)?,
        content_type: r.get(at + 4)?,
        byte_size: r.get(at + 5)?,
        width: r.get(at + 6)?,
        height: r.get(at + 7)?,
        duration_ms: r.get(at + 8)?,
        created_at: r.get(at + 9)?,
    })
}

/// Why the sweep removes an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepReason {
    /// A presigned upload never completed, past its URL's expiry plus the grace.
    ExpiredPending,
    /// Ready, attached to no message, older than the orphan grace.
    Orphaned,
    /// Attached only to deleted messages: nobody can download or attach it any more.
    DeletedMessages,
    /// Marked by an earlier sweep whose object delete failed; retried.
    Unfinished,
}

/// An upload row the sweep looks at.
#[derive(Debug, Clone)]
pub(crate) struct SweepCandidate {
    pub id: String,
    pub workspace_id: String,
    pub owner_id: String,
    pub byte_size: i64,
    pub key: String,
    pub status: String,
    pub created_at: String,
    pub pending_expires_at_ms: Option<i64>,
    /// Messages carrying it (deleted ones included).
    pub attached: i64,
    /// Live (not deleted) messages carrying it.
    pub live: i64,
}

const CANDIDATE_SELECT: &str = "SELECT u.id, u.workspace_id, u.owner_id, u.byte_size,
        u.storage_path, u.status, u.created_at, u.pending_expires_at_ms,
        (SELECT COUNT(*) FROM message_attachments a WHERE a.upload_id = u.id),
        (SELECT COUNT(*) FROM message_attachments a JOIN messages m ON m.id = a.message_id
          WHERE a.upload_id = u.id AND m.deleted_at IS NULL)
     FROM uploads u";

fn candidate_from(r: &Row) -> Result<SweepCandidate> {
    Ok(SweepCandidate {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        owner_id: r.get(2)?,
        byte_size: r.get(3)?,
        key: r.get(4)?,
        status: r.get(5)?,
        created_at: r.get(6)?,
        pending_expires_at_ms: r.get(7)?,
        attached: r.get(8)?,
        live: r.get(9)?,
    })
}

/// Every upload that is pending, marked `deleting`, or ready without a live message —
/// a superset of what the sweep removes (the time rules are applied by the caller, since
/// `created_at` strings do not compare as text).
pub(crate) async fn sweep_candidates(conn: &Connection) -> Result<Vec<SweepCandidate>> {
    query_all(
        conn,
        &format!(
            "{CANDIDATE_SELECT}
             WHERE u.status != 'ready'
                OR NOT EXISTS (SELECT 1 FROM message_attachments a JOIN messages m ON m.id = a.message_id
                               WHERE a.upload_id = u.id AND m.deleted_at IS NULL)
             ORDER BY u.created_at, u.id"
        ),
        (),
        candidate_from,
    )
    .await
}

/// One upload as the sweep sees it (inside its transaction, to re-check the rules).
pub(crate) async fn sweep_candidate(conn: &Connection, id: &str) -> Result<Option<SweepCandidate>> {
    Ok(query_all(
        conn,
        &format!("{CANDIDATE_SELECT} WHERE u.id = ?1"),
        [id],
        candidate_from,
    )
    .await?
    .pop())
}

/// Marks an upload `deleting`: from then on it is invisible (not downloadable, not
/// attachable, not completable, not counted in the quota) and its nonce is free.
pub(crate) async fn mark_deleting(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE uploads SET status = 'deleting', client_nonce = NULL, direct_download = 0
         WHERE id = ?1",
        [id],
    )
    .await?;
    Ok(())
}

/// Removes a `deleting` row (its attachment rows go with it). False when it was not
/// marked.
pub(crate) async fn delete_marked(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .execute(
            "DELETE FROM uploads WHERE id = ?1 AND status = 'deleting'",
            [id],
        )
        .await?
        > 0)
}
