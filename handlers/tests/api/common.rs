use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use clickclack_handlers::{app, AppState, HttpConfig};
use clickclack_runtime::chat::{Chat, ChatConfig};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use clickclack_runtime::uploads::UploadStore;
use http_body_util::BodyExt;
use serde_json::Value;
use std::net::SocketAddr;
use tempfile::TempDir;
use tower::ServiceExt;

/// A user with a session token.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub token: String,
}

/// A fresh app on a temp database: `owner` (bootstrap owner), `member` (member of the
/// workspace), `outsider` (no workspace), workspace `ClickClack` with `#general`.
pub struct TestApp {
    pub router: Router,
    pub chat: Chat,
    pub owner: Person,
    pub member: Person,
    pub outsider: Person,
    pub workspace_id: String,
    pub general_id: String,
    _dir: TempDir,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(HttpConfig {
            dev_auth: true,
            ..HttpConfig::default()
        })
        .await
    }

    pub async fn with_config(http: HttpConfig) -> TestApp {
        Self::build(http, ChatConfig::default(), None).await
    }

    /// Dev auth on, uploads stored in `uploads`, use-case limits from `config`.
    pub async fn with_uploads(uploads: UploadStore, config: ChatConfig) -> TestApp {
        let http = HttpConfig {
            dev_auth: true,
            max_upload_bytes: config.max_upload_bytes,
            ..HttpConfig::default()
        };
        Self::build(http, config, Some(uploads)).await
    }

    pub async fn build(
        http: HttpConfig,
        config: ChatConfig,
        uploads: Option<UploadStore>,
    ) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let location = DbLocation::parse(dir.path().join("api.db").to_str().unwrap()).unwrap();
        let store = Store::open(StoreOptions::new(location)).await.unwrap();
        let mut chat = Chat::new(store, config);
        if let Some(uploads) = uploads {
            chat = chat.with_uploads(uploads);
        }
        let boot = chat
            .bootstrap("Local Captain", "local@clickclack.chat")
            .await
            .unwrap();
        let workspace_id = boot.workspace.unwrap().id;
        let general_id = boot.channel.unwrap().id;
        let owner = Person {
            token: chat.create_session(&boot.user.id).await.unwrap().token,
            id: boot.user.id,
        };
        let m = chat
            .admin_create_user("Second Mate", "mate@example.com", Some(&workspace_id))
            .await
            .unwrap();
        let member = Person {
            token: chat.create_session(&m.id).await.unwrap().token,
            id: m.id,
        };
        let o = chat
            .admin_create_user("Stranger", "stranger@example.com", None)
            .await
            .unwrap();
        let outsider = Person {
            token: chat.create_session(&o.id).await.unwrap().token,
            id: o.id,
        };
        TestApp {
            router: app(AppState::new(chat.clone(), http)),
            chat,
            owner,
            member,
            outsider,
            workspace_id,
            general_id,
            _dir: dir,
        }
    }

    pub fn req(&self, method: Method, path: &str) -> Req {
        Req {
            router: self.router.clone(),
            builder: Request::builder()
                .method(method)
                .uri(path)
                .header("host", "localhost:8080"),
            body: Body::empty(),
        }
    }
    pub fn get(&self, path: &str) -> Req {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req {
        self.req(Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Req {
        self.req(Method::PATCH, path)
    }
    pub fn delete(&self, path: &str) -> Req {
        self.req(Method::DELETE, path)
    }

    /// Posts `body` to `#general` as `who` and returns the message JSON.
    pub async fn send(&self, who: &Person, body: &str) -> Value {
        let res = self
            .post(&format!("/api/channels/{}/messages", self.general_id))
            .token(&who.token)
            .json(serde_json::json!({"body": body}))
            .send()
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body["message"].clone()
    }
}

/// A request under construction.
pub struct Req {
    router: Router,
    builder: axum::http::request::Builder,
    body: Body,
}

impl Req {
    pub fn token(mut self, token: &str) -> Self {
        self.builder = self
            .builder
            .header("authorization", format!("Bearer {token}"));
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }
    pub fn json(mut self, value: Value) -> Self {
        self.builder = self.builder.header("content-type", "application/json");
        self.body = Body::from(value.to_string());
        self
    }
    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.builder = self.builder.header("content-type", content_type);
        self.body = body.into();
        self
    }
    /// Marks the request as coming from a loopback peer.
    pub fn local(mut self) -> Self {
        let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        self.builder = self.builder.extension(ConnectInfo(addr));
        self
    }
    /// Marks the request as coming from a remote peer.
    pub fn remote(mut self) -> Self {
        let addr: SocketAddr = "203.0.113.9:40000".parse().unwrap();
        self.builder = self.builder.extension(ConnectInfo(addr));
        self
    }
    /// Sends the request; the response must match handlers/openapi.json (see
    /// `openapi::check_response`), else the test fails with what differs.
    pub async fn send(self) -> Res {
        let request = self.builder.body(self.body).unwrap();
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let response = self.router.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        if let Err(mismatch) =
            crate::openapi::check_response(&method, &path, status, &headers, &bytes)
        {
            panic!("{mismatch}");
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }
}

/// A response with its body parsed as JSON (`Null` when not JSON).
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    /// Asserts the status and returns self.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
    /// Asserts an error status with the given `code`.
    #[track_caller]
    pub fn expect_error(self, status: StatusCode, code: &str) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code; body: {}",
            self.text
        );
        assert!(self.body["error"].as_str().is_some_and(|e| !e.is_empty()));
        self
    }
}
