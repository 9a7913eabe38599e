//! Shared test helpers: a seeded temp database (migrated the way `clickclack migrate` does),
//! API Gateway / Function URL events built from the fixture files, and a driver that runs
//! an event through `lambda_http`'s conversion into the Lambda router.

use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use clickclack_lambda::{LambdaConfig, StartupError};
use clickclack_runtime::chat::{Chat, ChatConfig};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use http_body_util::BodyExt;
use lambda_http::request::LambdaRequest;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use tempfile::TempDir;
use tower::ServiceExt;

pub const OWNER_EMAIL: &str = "ada@example.com";

/// Which event source a request arrives from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// API Gateway HTTP API, payload format 2.0.
    HttpApiV2,
    /// API Gateway REST API (proxy integration), payload format 1.0, stage `prod`.
    RestApiV1,
    /// Lambda Function URL (payload 2.0 shape, stage `$default`).
    FunctionUrl,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::HttpApiV2, Kind::RestApiV1, Kind::FunctionUrl];

    fn fixture(self) -> &'static str {
        match self {
            Kind::HttpApiV2 => include_str!("../fixtures/apigw-http-v2.json"),
            Kind::RestApiV1 => include_str!("../fixtures/apigw-rest-v1.json"),
            Kind::FunctionUrl => include_str!("../fixtures/function-url.json"),
        }
    }

    /// The `lambda_http` request origin the fixture must be recognised as.
    fn origin(self) -> &'static str {
        match self {
            Kind::RestApiV1 => "ApiGatewayV1",
            Kind::HttpApiV2 | Kind::FunctionUrl => "ApiGatewayV2",
        }
    }
}

/// A database migrated and seeded through the runtime, then closed: workspace `ClickClack`
/// with `#general`, owned by [`OWNER_EMAIL`], plus unused magic-link tokens for the owner.
pub struct Seed {
    pub dir: TempDir,
    pub db: PathBuf,
    pub workspace_id: String,
    pub general_id: String,
    pub magic_tokens: Vec<String>,
}

impl Seed {
    pub async fn new(magic_links: usize) -> Seed {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("clickclack.db");
        let location = DbLocation::parse(db.to_str().unwrap()).unwrap();
        // What `clickclack migrate` does on deploy: open with migrations.
        let store = Store::open(StoreOptions::new(location)).await.unwrap();
        let chat = Chat::new(store.clone(), ChatConfig::default());
        let boot = chat.bootstrap("Ada Owner", OWNER_EMAIL).await.unwrap();
        let mut magic_tokens = Vec::new();
        for _ in 0..magic_links {
            let link = chat
                .request_magic_link(OWNER_EMAIL, "Ada Owner")
                .await
                .unwrap();
            magic_tokens.push(link.token);
        }
        store.close().await;
        Seed {
            workspace_id: boot.workspace.unwrap().id,
            general_id: boot.channel.unwrap().id,
            db,
            dir,
            magic_tokens,
        }
    }

    /// The Lambda host's environment for this database, plus `extra`.
    pub fn env(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env = HashMap::from([(
            "CLICKCLACK_DB".to_string(),
            self.db.to_str().unwrap().to_string(),
        )]);
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        env
    }

    /// Opens the database the way a cold start does (no migrations) and builds the router.
    pub async fn lambda_app(&self, extra: &[(&str, &str)]) -> Router {
        clickclack_lambda::app(open_lambda(self.env(extra)).await.unwrap())
    }
}

/// `LambdaConfig` from `env`, then `state_from_config` (migrate: false).
pub async fn open_lambda(
    env: HashMap<String, String>,
) -> Result<clickclack_handlers::AppState, StartupError> {
    let config = LambdaConfig::from_lookup(|k| env.get(k).cloned())?;
    clickclack_lambda::state_from_config(&config).await
}

/// One HTTP call, rendered into the event JSON of a [`Kind`].
#[derive(Debug, Clone)]
pub struct Call {
    kind: Kind,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    stage: Option<String>,
}

impl Call {
    pub fn new(kind: Kind, method: &str, path: &str) -> Call {
        Call {
            kind,
            method: method.to_string(),
            path: path.to_string(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            stage: None,
        }
    }
    pub fn get(kind: Kind, path: &str) -> Call {
        Call::new(kind, "GET", path)
    }
    pub fn post(kind: Kind, path: &str) -> Call {
        Call::new(kind, "POST", path)
    }
    pub fn query(mut self, key: &str, value: &str) -> Call {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn bearer(self, token: &str) -> Call {
        self.header("authorization", &format!("Bearer {token}"))
    }
    pub fn json(mut self, value: Value) -> Call {
        self.body = Some(value.to_string());
        self.header("content-type", "application/json")
    }
    /// An API Gateway stage other than the fixture's (v2 only; v1 fixtures use `prod`).
    pub fn stage(mut self, stage: &str) -> Call {
        self.stage = Some(stage.to_string());
        self
    }

    /// The event JSON: the fixture file with method, path, query, headers and body set.
    pub fn event(&self) -> Value {
        let mut e: Value = serde_json::from_str(self.kind.fixture()).unwrap();
        match self.kind {
            Kind::HttpApiV2 | Kind::FunctionUrl => {
                let stage = self.stage.clone().unwrap_or_else(|| "$default".to_string());
                let raw_path = if stage == "$default" {
                    self.path.clone()
                } else {
                    format!("/{stage}{}", self.path)
                };
                e["rawPath"] = json!(raw_path);
                e["requestContext"]["http"]["method"] = json!(self.method);
                e["requestContext"]["http"]["path"] = json!(raw_path);
                e["requestContext"]["stage"] = json!(stage);
                e["rawQueryString"] = json!(encode_query(&self.query));
                if !self.query.is_empty() {
                    let map: Map<String, Value> = self
                        .query
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    e["queryStringParameters"] = Value::Object(map);
                }
                for (name, value) in &self.headers {
                    e["headers"][name.to_ascii_lowercase()] = json!(value);
                }
                if let Some(body) = &self.body {
                    e["headers"]["content-length"] = json!(body.len().to_string());
                }
            }
            Kind::RestApiV1 => {
                let stage = e["requestContext"]["stage"].as_str().unwrap().to_string();
                e["httpMethod"] = json!(self.method);
                e["path"] = json!(self.path);
                e["pathParameters"]["proxy"] = json!(self.path.trim_start_matches('/'));
                e["requestContext"]["httpMethod"] = json!(self.method);
                e["requestContext"]["path"] = json!(format!("/{stage}{}", self.path));
                if !self.query.is_empty() {
                    let single: Map<String, Value> = self
                        .query
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    let multi: Map<String, Value> = self
                        .query
                        .iter()
                        .map(|(k, v)| (k.clone(), json!([v])))
                        .collect();
                    e["queryStringParameters"] = Value::Object(single);
                    e["multiValueQueryStringParameters"] = Value::Object(multi);
                }
                let mut headers = self.headers.clone();
                if let Some(body) = &self.body {
                    headers.push(("content-length".to_string(), body.len().to_string()));
                }
                for (name, value) in &headers {
                    let name = title_case(name);
                    e["headers"][&name] = json!(value);
                    e["multiValueHeaders"][&name] = json!([value]);
                }
            }
        }
        e["body"] = match &self.body {
            Some(body) => json!(body),
            None => Value::Null,
        };
        e
    }
}

/// `content-type` → `Content-Type` (REST API events keep the client's spelling).
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn encode_query(pairs: &[(String, String)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A response with its body parsed as JSON (`Null` when it is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Reply {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.json
        );
        self
    }
}

/// Deserializes the event as `lambda_http` does on Lambda (`LambdaRequest` → `Request`),
/// turns it into an axum request and runs it through `app` with `oneshot`.
pub async fn send(app: &Router, call: &Call) -> Reply {
    let event = call.event();
    let lambda: LambdaRequest = serde_json::from_value(event).expect("the event deserializes");
    assert_eq!(
        format!("{:?}", lambda.request_origin()),
        call.kind.origin(),
        "the fixture is recognised as the right event source"
    );
    let request: lambda_http::Request = lambda.into();
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}
