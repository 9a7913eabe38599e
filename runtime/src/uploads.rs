//! Where upload bytes live: an [`UploadStore`] wraps an [`object_store::ObjectStore`] chosen
//! by URL (decisions §4 "Uploads by URL"):
//!
//! - `file://DIR` — a local directory (created when missing);
//! - `memory://` — in process memory (tests, throwaway dev servers);
//! - `s3://bucket/prefix` — any S3-compatible store (needs the crate's `s3` feature). The
//!   standard `AWS_*` variables configure it (credentials, `AWS_REGION`, …);
//!   `CLICKCLACK_S3_ENDPOINT` points it at R2/MinIO-style endpoints (plain `http` is allowed
//!   for loopback endpoints) and `CLICKCLACK_S3_PATH_STYLE=true` forces path-style requests.
//!   Only S3 can presign (`Signer`): large uploads and downloads then bypass the API.
//!
//! Writes stream: [`UploadStore::put_stream`] never holds more than one multipart part
//! (plus the parts in flight) in memory, stops at a byte limit and leaves no object behind
//! when it fails. Object keys are relative to the store's prefix; the database keeps them
//! in `uploads.storage_path`, which is never shown to clients.

use crate::{Error, ErrorKind, Result};
use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, GetOptions, GetRange, ObjectStore, ObjectStoreExt,
    PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// Bytes buffered before a write switches to a multipart upload, and the part size after
/// (S3's minimum part size).
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// Multipart parts uploaded concurrently by one write (bounds memory per upload).
const PARTS_IN_FLIGHT: usize = 2;

/// The kind of store behind an [`UploadStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    File,
    Memory,
    S3,
}

/// What a presigned URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedMethod {
    Get,
    Put,
}

impl SignedMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignedMethod::Get => "GET",
            SignedMethod::Put => "PUT",
        }
    }
}

/// The outcome of a streamed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The object is stored with this many bytes.
    Stored(u64),
    /// The stream went past the limit; nothing was kept.
    OverLimit,
}

/// Headers an object should answer with when a client fetches it from the store directly
/// (S3 presigned GET). Ignored by backends that are only read through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: String,
    pub content_disposition: String,
}

/// Part of an object being read.
pub struct ObjectRead {
    pub stream: BoxStream<'static, Result<Bytes>>,
    /// The byte range the stream covers.
    pub range: Range<u64>,
    /// The object's full size.
    pub size: u64,
}

/// An object's size and the headers it was stored with (S3 only; `None` elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

/// The upload object store. Cheap to clone.
#[derive(Clone)]
pub struct UploadStore {
    inner: Arc<Inner>,
}

struct Inner {
    objects: Arc<dyn ObjectStore>,
    prefix: Option<Path>,
    backend: Backend,
    /// The URL it was opened from (no secrets are ever part of it).
    url: String,
    #[cfg(feature = "s3")]
    signer: Option<Arc<dyn object_store::signer::Signer>>,
}

impl fmt::Debug for UploadStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadStore")
            .field("url", &self.inner.url)
            .field("backend", &self.inner.backend)
            .finish()
    }
}

fn store_error(e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::not_found("upload"),
        other => Error::unavailable(format!("object store: {other}")),
    }
}

fn bad_url(url: &str, why: impl fmt::Display) -> Error {
    Error::invalid(
        "invalid_uploads_url",
        format!("invalid uploads URL {url:?}: {why}"),
    )
}

impl UploadStore {
    /// Opens the store named by `url`; S3 settings come from the process environment.
    pub fn open(url: &str) -> Result<UploadStore> {
        Self::open_with_env(url, std::env::vars())
    }

    /// Opens the store named by `url` with S3 settings taken from `vars` (`AWS_*`,
    /// `CLICKCLACK_S3_ENDPOINT`, `CLICKCLACK_S3_PATH_STYLE`) instead of the process
    /// environment.
    pub fn open_with_env(
        url: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<UploadStore> {
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad_url(url, "expected file://DIR, s3://bucket/prefix or memory://"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "file" => Self::open_dir(url, rest),
            "memory" => {
                if !rest.trim_matches('/').is_empty() {
                    return Err(bad_url(url, "memory:// takes no path"));
                }
                Ok(Self::memory())
            }
            "s3" => Self::open_s3(url, rest, vars.into_iter().collect()),
            other => Err(bad_url(
                url,
                format!("unsupported scheme {other:?}; use file://, s3:// or memory://"),
            )),
        }
    }

    /// A fresh in-memory store.
    pub fn memory() -> UploadStore {
        Self::from_parts(
            Arc::new(object_store::memory::InMemory::new()),
            Backend::Memory,
            "memory://".to_string(),
        )
    }

    fn from_parts(objects: Arc<dyn ObjectStore>, backend: Backend, url: String) -> UploadStore {
        UploadStore {
            inner: Arc::new(Inner {
                objects,
                prefix: None,
                backend,
                url,
                #[cfg(feature = "s3")]
                signer: None,
            }),
        }
    }

    fn open_dir(url: &str, dir: &str) -> Result<UploadStore> {
        // `file:///srv/uploads` and `file://./data/uploads` (relative) both work.
        if dir.is_empty() {
            return Err(bad_url(url, "file:// needs a directory"));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::unavailable(format!("cannot create upload directory {dir}: {e}"))
        })?;
        let local = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::unavailable(format!("cannot open upload directory {dir}: {e}")))?
            .with_automatic_cleanup(true);
        Ok(Self::from_parts(
            Arc::new(local),
            Backend::File,
            url.to_string(),
        ))
    }

    #[cfg(not(feature = "s3"))]
    fn open_s3(url: &str, _rest: &str, _vars: HashMap<String, String>) -> Result<UploadStore> {
        Err(bad_url(
            url,
            "this build has no S3 support (clickclack-runtime feature `s3`)",
        ))
    }

    #[cfg(feature = "s3")]
    fn open_s3(url: &str, rest: &str, vars: HashMap<String, String>) -> Result<UploadStore> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad_url(url, "s3:// needs a bucket: s3://bucket/prefix"));
        }
        let var = |key: &str| {
            vars.get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut builder = AmazonS3Builder::new();
        for (key, value) in &vars {
            if key.starts_with("AWS_") {
                if let Ok(config_key) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                    builder = builder.with_config(config_key, value.clone());
                }
            }
        }
        builder = builder.with_bucket_name(bucket);
        if let Some(endpoint) = var("CLICKCLACK_S3_ENDPOINT") {
            if is_loopback_http(&endpoint) {
                builder = builder.with_allow_http(true);
            }
            builder = builder.with_endpoint(endpoint);
        }
        match var("CLICKCLACK_S3_PATH_STYLE")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None => {}
            Some("true" | "1" | "yes" | "on") => {
                builder = builder.with_virtual_hosted_style_request(false)
            }
            Some("false" | "0" | "no" | "off") => {
                builder = builder.with_virtual_hosted_style_request(true)
            }
            Some(other) => {
                return Err(bad_url(
                    url,
                    format!("CLICKCLACK_S3_PATH_STYLE must be true or false, not {other:?}"),
                ))
            }
        }
        let s3 = Arc::new(
            builder
                .build()
                .map_err(|e| bad_url(url, format!("S3 configuration: {e}")))?,
        );
        let prefix = prefix.trim_matches('/');
        Ok(UploadStore {
            inner: Arc::new(Inner {
                objects: s3.clone(),
                prefix: (!prefix.is_empty()).then(|| Path::from(prefix)),
                backend: Backend::S3,
                url: url.to_string(),
                signer: Some(s3),
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The URL the store was opened from.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// True when the store can hand out presigned URLs (S3).
    pub fn can_presign(&self) -> bool {
        #[cfg(feature = "s3")]
        {
            self.inner.signer.is_some()
        }
        #[cfg(not(feature = "s3"))]
        {
            false
        }
    }

    fn path(&self, key: &str) -> Path {
        match &self.inner.prefix {
            Some(prefix) => Path::from(format!("{prefix}/{key}")),
            None => Path::from(key),
        }
    }

    /// Streams `stream` into the object `key`, at most `limit` bytes. Over the limit, or
    /// on any error (the stream's included), the partial object is aborted and deleted.
    pub async fn put_stream<S>(
        &self,
        key: &str,
        stream: S,
        limit: u64,
        headers: &ObjectHeaders,
    ) -> Result<Written>
    where
        S: Stream<Item = Result<Bytes>> + Send,
    {
        let path = self.path(key);
        let attributes = self.attributes(headers);
        let mut stream = std::pin::pin!(stream);
        let mut pending: Vec<Bytes> = Vec::new();
        let mut pending_len = 0usize;
        let mut writer: Option<WriteMultipart> = None;
        let mut total = 0u64;
        let outcome: Result<Option<u64>> = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                total += chunk.len() as u64;
                if total > limit {
                    return Ok(None);
                }
                match writer.as_mut() {
                    Some(w) => {
                        w.wait_for_capacity(PARTS_IN_FLIGHT)
                            .await
                            .map_err(store_error)?;
                        w.put(chunk);
                    }
                    None => {
                        pending_len += chunk.len();
                        pending.push(chunk);
                        if pending_len >= PART_BYTES {
                            let upload = self
                                .inner
                                .objects
                                .put_multipart_opts(
                                    &path,
                                    PutMultipartOptions {
                                        attributes: attributes.clone(),
                                        ..Default::default()
                                    },
                                )
                                .await
                                .map_err(store_error)?;
                            let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                            for part in pending.drain(..) {
                                w.put(part);
                            }
                            writer = Some(w);
                        }
                    }
                }
            }
            Ok(Some(total))
        }
        .await;
        match (outcome, writer) {
            (Ok(Some(size)), Some(w)) => match w.finish().await {
                Ok(_) => Ok(Written::Stored(size)),
                Err(e) => {
                    self.delete_quietly(key).await;
                    Err(store_error(e))
                }
            },
            (Ok(Some(size)), None) => {
                let payload: PutPayload = pending.into_iter().collect();
                self.inner
                    .objects
                    .put_opts(
                        &path,
                        payload,
                        PutOptions {
                            attributes,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(store_error)?;
                Ok(Written::Stored(size))
            }
            (outcome, writer) => {
                if let Some(w) = writer {
                    if let Err(e) = w.abort().await {
                        tracing::warn!(key, error = %e, "aborting a multipart upload failed");
                    }
                }
                self.delete_quietly(key).await;
                outcome.map(|_| Written::OverLimit)
            }
        }
    }

    /// Object attributes for `headers`: only S3 serves objects directly, and only S3 and
    /// memory can store them.
    fn attributes(&self, headers: &ObjectHeaders) -> Attributes {
        let mut attributes = Attributes::new();
        if self.inner.backend == Backend::S3 {
            attributes.insert(
                Attribute::ContentType,
                AttributeValue::from(headers.content_type.clone()),
            );
            attributes.insert(
                Attribute::ContentDisposition,
                AttributeValue::from(headers.content_disposition.clone()),
            );
        }
        attributes
    }

    /// Reads `key`, all of it or `range` (which must lie inside the object).
    pub async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ObjectRead> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let result = self
            .inner
            .objects
            .get_opts(&self.path(key), options)
            .await
            .map_err(store_error)?;
        let size = result.meta.size;
        let range = result.range.clone();
        Ok(ObjectRead {
            stream: result.into_stream().map_err(store_error).boxed(),
            range,
            size,
        })
    }

    /// The object's size and stored headers; `None` when it does not exist.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectHead>> {
        let options = GetOptions {
            head: true,
            ..Default::default()
        };
        match self.inner.objects.get_opts(&self.path(key), options).await {
            Ok(result) => {
                let text = |a: Attribute| result.attributes.get(&a).map(|v| v.to_string());
                Ok(Some(ObjectHead {
                    size: result.meta.size,
                    content_type: text(Attribute::ContentType),
                    content_disposition: text(Attribute::ContentDisposition),
                }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Deletes `key`; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.inner.objects.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// [`Self::delete`], logging instead of failing (cleanup after another error).
    pub async fn delete_quietly(&self, key: &str) {
        if let Err(e) = self.delete(key).await {
            tracing::warn!(key, error = %e.message, "could not delete an upload object");
        }
    }

    /// Every object key under the store's prefix (relative to it), sorted. For tests and
    /// operators; lists the whole store.
    pub async fn keys(&self) -> Result<Vec<String>> {
        let metas: Vec<_> = self
            .inner
            .objects
            .list(self.inner.prefix.as_ref())
            .try_collect()
            .await
            .map_err(store_error)?;
        let mut keys: Vec<String> = metas
            .into_iter()
            .map(|m| {
                let full = m.location.to_string();
                match &self.inner.prefix {
                    Some(prefix) => full
                        .strip_prefix(&format!("{prefix}/"))
                        .unwrap_or(&full)
                        .to_string(),
                    None => full,
                }
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// A presigned URL for `method` on `key`, valid for `expires_in`. Errors with code
    /// `presign_unsupported` on stores that cannot sign.
    pub async fn presign(
        &self,
        method: SignedMethod,
        key: &str,
        expires_in: Duration,
    ) -> Result<String> {
        #[cfg(feature = "s3")]
        if let Some(signer) = &self.inner.signer {
            let method = match method {
                SignedMethod::Get => http::Method::GET,
                SignedMethod::Put => http::Method::PUT,
            };
            let url = signer
                .signed_url(method, &self.path(key), expires_in)
                .await
                .map_err(store_error)?;
            return Ok(url.to_string());
        }
        let _ = (method, key, expires_in);
        Err(presign_unsupported())
    }
}

/// The error of presigning on a store that cannot (hosts answer it with 501).
pub fn presign_unsupported() -> Error {
    Error::new(
        ErrorKind::Invalid,
        "presign_unsupported",
        "presigned uploads need an S3 upload store (s3://)",
    )
}

/// Bytes from the start of a file that [`image_dimensions`] looks at (JPEG metadata
/// segments such as EXIF thumbnails may push the frame header this far).
pub const IMAGE_HEADER_BYTES: usize = 256 * 1024;

/// Width and height in pixels of a PNG, JPEG, GIF or WebP image, read from the first bytes
/// of the file (at most [`IMAGE_HEADER_BYTES`] are needed); `None` for anything else or a
/// header that does not parse. JPEG EXIF orientation is not applied (stored dimensions).
pub fn image_dimensions(head: &[u8]) -> Option<(u32, u32)> {
    let be16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_be_bytes(
            head.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let le16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_le_bytes(
            head.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let le24 = |at: usize| -> Option<u32> {
        let b = head.get(at..at + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    let dims = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        if head.get(12..16)? != b"IHDR" {
            return None;
        }
        let w = u32::from_be_bytes(head.get(16..20)?.try_into().ok()?);
        let h = u32::from_be_bytes(head.get(20..24)?.try_into().ok()?);
        (w, h)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        (le16(6)?, le16(8)?)
    } else if head.starts_with(b"RIFF") && head.get(8..12)? == b"WEBP" {
        match head.get(12..16)? {
            b"VP8 " => {
                if head.get(23..26)? != [0x9d, 0x01, 0x2a] {
                    return None;
                }
                (le16(26)? & 0x3fff, le16(28)? & 0x3fff)
            }
            b"VP8L" => {
                if *head.get(20)? != 0x2f {
                    return None;
                }
                let bits = u32::from_le_bytes(head.get(21..25)?.try_into().ok()?);
                ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
            }
            b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
            _ => return None,
        }
    } else if head.starts_with(&[0xff, 0xd8]) {
        let mut at = 2;
        loop {
            // Markers may be padded with any number of 0xff fill bytes.
            while *head.get(at)? == 0xff && *head.get(at + 1)? == 0xff {
                at += 1;
            }
            if *head.get(at)? != 0xff {
                return None;
            }
            let marker = *head.get(at + 1)?;
            at += 2;
            match marker {
                // Standalone markers: no length.
                0x01 | 0xd0..=0xd7 => continue,
                0xd9 | 0xda => return None,
                // Start of frame (not DHT 0xc4, JPG 0xc8, DAC 0xcc): length, precision,
                // height, width.
                0xc0..=0xcf if !matches!(marker, 0xc4 | 0xc8 | 0xcc) => {
                    break (be16(at + 5)?, be16(at + 3)?);
                }
                _ => {
                    let len = be16(at)? as usize;
                    if len < 2 {
                        return None;
                    }
                    at += len;
                }
            }
        }
    } else {
        return None;
    };
    (dims.0 > 0 && dims.1 > 0).then_some(dims)
}

/// `http://localhost…`, `http://127.x.x.x…`, `http://[::1]…`.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    #[test]
    fn image_dimensions_from_headers() {
        // PNG: signature, IHDR 3×2.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&3u32.to_be_bytes());
        png.extend_from_slice(&2u32.to_be_bytes());
        assert_eq!(image_dimensions(&png), Some((3, 2)));
        assert_eq!(image_dimensions(&png[..20]), None);
        // GIF 5×7.
        assert_eq!(
            image_dimensions(b"GIF89a\x05\x00\x07\x00\x80\x00\x00"),
            Some((5, 7))
        );
        // JPEG: SOI, APP0 (length 4), fill byte, SOF2 with height 10, width 20.
        let jpeg = [
            0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0xaa, 0xbb, 0xff, 0xff, 0xc2, 0x00, 0x11, 0x08,
            0x00, 0x0a, 0x00, 0x14, 0x03,
        ];
        assert_eq!(image_dimensions(&jpeg), Some((20, 10)));
        // DHT before the frame is skipped, not taken for a frame.
        let jpeg = [
            0xff, 0xd8, 0xff, 0xc4, 0x00, 0x03, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x00,
            0x02, 0x00,
        ];
        assert_eq!(image_dimensions(&jpeg), Some((512, 256)));
        assert_eq!(image_dimensions(&[0xff, 0xd8, 0xff, 0xda]), None);
        // WebP: VP8X canvas 640×480, VP8L 1×1, lossy 16×9.
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x7f, 0x02, 0x00, 0xdf, 0x01, 0x00]);
        assert_eq!(image_dimensions(&vp8x), Some((640, 480)));
        let vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f\0\0\0\0";
        assert_eq!(image_dimensions(vp8l), Some((1, 1)));
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\x9d\x01\x2a".to_vec();
        vp8.extend_from_slice(&[16, 0, 9, 0]);
        assert_eq!(image_dimensions(&vp8), Some((16, 9)));
        assert_eq!(image_dimensions(b"hello world"), None);
        assert_eq!(image_dimensions(b""), None);
    }

    fn headers() -> ObjectHeaders {
        ObjectHeaders {
            content_type: "text/plain".into(),
            content_disposition: "inline".into(),
        }
    }

    fn chunks(parts: Vec<Vec<u8>>) -> impl Stream<Item = Result<Bytes>> + Send {
        stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p))))
    }

    #[test]
    fn urls() {
        assert_eq!(UploadStore::memory().backend(), Backend::Memory);
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let store = UploadStore::open(&format!("file://{}", nested.display())).unwrap();
        assert_eq!(store.backend(), Backend::File);
        assert!(nested.is_dir());
        assert!(!store.can_presign());
        for bad in ["", "/tmp/x", "ftp://x", "file://", "memory://x", "s3://"] {
            let e = UploadStore::open_with_env(bad, Vec::new()).unwrap_err();
            assert_eq!(e.code, "invalid_uploads_url", "{bad}");
        }
    }

    #[test]
    fn loopback_endpoints() {
        assert!(is_loopback_http("http://127.0.0.1:9000"));
        assert!(is_loopback_http("http://localhost:9000/"));
        assert!(is_loopback_http("http://[::1]:9000"));
        assert!(!is_loopback_http("https://127.0.0.1:9000"));
        assert!(!is_loopback_http("http://minio.internal:9000"));
    }

    #[tokio::test]
    async fn small_and_multipart_writes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::open(&format!("file://{}", dir.path().display())).unwrap();
        let small = store
            .put_stream(
                "w/a",
                chunks(vec![b"hello ".to_vec(), b"world".to_vec()]),
                100,
                &headers(),
            )
            .await
            .unwrap();
        assert_eq!(small, Written::Stored(11));
        let big: Vec<Vec<u8>> = (0..12).map(|i| vec![i as u8; 1024 * 1024]).collect();
        let written = store
            .put_stream("w/b", chunks(big), 64 << 20, &headers())
            .await
            .unwrap();
        assert_eq!(written, Written::Stored(12 << 20));
        let read = store
            .read("w/b", Some(5 << 20..(5 << 20) + 3))
            .await
            .unwrap();
        assert_eq!(read.size, 12 << 20);
        let bytes: Vec<Bytes> = read.stream.try_collect().await.unwrap();
        assert_eq!(bytes.concat(), vec![5u8; 3]);
        assert_eq!(store.keys().await.unwrap(), vec!["w/a", "w/b"]);
        assert_eq!(store.head("w/a").await.unwrap().unwrap().size, 11);
        assert!(store.head("w/zzz").await.unwrap().is_none());
        store.delete("w/a").await.unwrap();
        store.delete("w/a").await.unwrap();
        assert_eq!(store.keys().await.unwrap(), vec!["w/b"]);
    }

    #[tokio::test]
    async fn over_limit_and_failing_streams_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for store in [
            UploadStore::memory(),
            UploadStore::open(&format!("file://{}", dir.path().display())).unwrap(),
        ] {
            let small = store
                .put_stream("k1", chunks(vec![vec![1; 10], vec![2; 10]]), 15, &headers())
                .await
                .unwrap();
            assert_eq!(small, Written::OverLimit);
            // Past the first part: a multipart upload was started and must be aborted.
            let big: Vec<Vec<u8>> = (0..8).map(|_| vec![7u8; 1024 * 1024]).collect();
            let over = store
                .put_stream("k2", chunks(big), 7 << 20, &headers())
                .await
                .unwrap();
            assert_eq!(over, Written::OverLimit);
            let failing = stream::iter(vec![
                Ok(Bytes::from(vec![0u8; PART_BYTES + 1])),
                Err(Error::invalid("broken", "client went away")),
            ]);
            let err = store
                .put_stream("k3", failing, 64 << 20, &headers())
                .await
                .unwrap_err();
            assert_eq!(err.code, "broken");
            assert!(store.keys().await.unwrap().is_empty(), "{store:?}");
            let leftovers: Vec<_> = walk(dir.path());
            assert!(leftovers.is_empty(), "{leftovers:?}");
        }
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[tokio::test]
    async fn presign_is_unsupported_off_s3() {
        let e = UploadStore::memory()
            .presign(SignedMethod::Put, "k", Duration::from_secs(60))
            .await
            .unwrap_err();
        assert_eq!(e.code, "presign_unsupported");
    }
}
