//! `handlers/openapi.json` against the code: the document is valid (OpenAPI 3.1, every
//! `$ref` resolves, every path parameter declared), documents exactly the routes the
//! router serves (parsed from the route sources and probed against the real router), and
//! [`check_response`] — called by `Req::send` for every request the API tests make —
//! validates each response against the documented schema for (method, path, status).

use crate::TestApp;
use axum::http::{HeaderMap, Method, StatusCode};
use jsonschema::{Draft, Validator};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

const DOCUMENT: &str = include_str!("../../openapi.json");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Component schemas other code (the TypeScript SDK) relies on by name.
const REQUIRED_SCHEMAS: [&str; 21] = [
    "User",
    "Workspace",
    "WorkspaceMember",
    "MemberPage",
    "Channel",
    "Message",
    "MessagePage",
    "Upload",
    "ReactionSummary",
    "ReactionChange",
    "Event",
    "EventPage",
    "Capabilities",
    "Thread",
    "ThreadState",
    "DirectConversation",
    "SearchResult",
    "SearchPage",
    "Session",
    "MagicLinkConsumed",
    "Error",
];

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(DOCUMENT).expect("handlers/openapi.json is JSON"))
}

/// The document with `unevaluatedProperties: false` on every object schema that lists
/// `properties` and says nothing about extra ones: the tests reject undocumented fields,
/// while the published document stays open for additions.
fn strict_document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        fn walk(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    let is_object = match map.get("type") {
                        Some(Value::String(t)) => t == "object",
                        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                        _ => false,
                    };
                    if is_object
                        && map.contains_key("properties")
                        && !map.contains_key("additionalProperties")
                        && !map.contains_key("unevaluatedProperties")
                    {
                        map.insert("unevaluatedProperties".into(), Value::Bool(false));
                    }
                    map.values_mut().for_each(walk);
                }
                Value::Array(items) => items.iter_mut().for_each(walk),
                _ => {}
            }
        }
        let mut doc = document().clone();
        walk(&mut doc);
        doc
    })
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Resolves a local `#/…` reference.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref`s of a response or parameter object; returns it and its JSON pointer.
fn deref(doc: &Value, mut pointer: String) -> (String, &Value) {
    loop {
        let value = doc
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("openapi.json: nothing at {pointer}"));
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => pointer = r.trim_start_matches('#').to_string(),
            None => return (pointer, value),
        }
    }
}

/// A validator for the schema at `pointer` (cached; compiled against the strict document
/// so `$ref`s into `#/components` resolve).
fn validator(pointer: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(pointer) {
        return v.clone();
    }
    // A URI fragment: `{`/`}` of path templates must be percent-encoded.
    let fragment: String = pointer
        .chars()
        .map(|c| match c {
            '{' | '}' | '%' | ' ' | '"' | '<' | '>' | '^' | '`' | '|' | '\\' => {
                format!("%{:02X}", c as u32)
            }
            c => c.to_string(),
        })
        .collect();
    let mut root = strict_document().clone();
    root["$ref"] = Value::String(format!("#{fragment}"));
    let compiled = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("openapi.json: schema at {pointer} does not compile: {e}"));
    let compiled = Arc::new(compiled);
    cache
        .lock()
        .unwrap()
        .insert(pointer.to_string(), compiled.clone());
    compiled
}

/// The documented path template a concrete path matches; literal segments beat
/// parameters (as in the router: `/api/messages/by-nonce` before `/api/messages/{id}`).
pub fn template_for(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (t, s) in parts.iter().zip(&segments) {
                if t.starts_with('{') && t.ends_with('}') {
                    if s.is_empty() {
                        return None;
                    }
                } else if t == s {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, template))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, t)| t.clone())
}

fn media_essence(headers: &HeaderMap) -> Option<String> {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

/// Validates `body` against the schema at `pointer`.
fn validate_json(pointer: &str, body: &[u8], what: &str) -> Result<(), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "{what}: the body is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    })?;
    let validator = validator(pointer);
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("  - at `{}`: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{what}: the response does not match handlers/openapi.json (schema {pointer}); fix the \
         document (or the server, if the document is right):\n{}\nbody: {}",
        errors.join("\n"),
        serde_json::to_string_pretty(&value).unwrap_or_default()
    ))
}

/// Checks one response against the document: the status is documented for the operation
/// (errors may fall back to `default`), the media type is a documented one, and a JSON body
/// matches the schema (undocumented fields are errors).
pub fn check_response(
    method: &Method,
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let what = format!("{method} {path} → {}", status.as_u16());
    let doc = document();
    let method_key = method.as_str().to_ascii_lowercase();
    if !METHODS.contains(&method_key.as_str()) {
        return Ok(()); // HEAD, OPTIONS, …: not part of the contract
    }
    let essence = media_essence(headers);
    let error_pointer = "/components/schemas/Error";
    let Some(template) = template_for(path) else {
        // Unknown paths: the JSON 404 under /api, the web app elsewhere.
        if path == "/api" || path.starts_with("/api/") {
            if status != StatusCode::NOT_FOUND {
                return Err(format!("{what}: an undocumented /api path must answer 404"));
            }
            return validate_json(error_pointer, body, &what);
        }
        return Ok(());
    };
    let operation_pointer = format!("/paths/{}/{method_key}", escape(&template));
    let Some(operation) = doc.pointer(&operation_pointer) else {
        // A documented path with an undocumented method: the JSON 405.
        if status != StatusCode::METHOD_NOT_ALLOWED {
            return Err(format!(
                "{what}: {method} {template} is not in handlers/openapi.json, yet it did not \
                 answer 405; document the operation"
            ));
        }
        return validate_json(error_pointer, body, &what);
    };
    if operation.get("x-clickclack-host").is_some() && status == StatusCode::NOT_FOUND {
        return Ok(()); // served by another host only (the WebSocket), not by `app()`
    }
    let code = status.as_u16().to_string();
    let responses = &operation["responses"];
    let key = if responses.get(&code).is_some() {
        code.clone()
    } else if status.as_u16() >= 400 && responses.get("default").is_some() {
        "default".to_string()
    } else {
        return Err(format!(
            "{what}: status {code} is not documented for {method} {template} in \
             handlers/openapi.json; body: {}",
            String::from_utf8_lossy(body)
        ));
    };
    let (response_pointer, response) = deref(
        doc,
        format!("{operation_pointer}/responses/{}", escape(&key)),
    );
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        if !body.is_empty() {
            return Err(format!(
                "{what}: documented without a body, but the response has one: {}",
                String::from_utf8_lossy(body)
            ));
        }
        return Ok(());
    };
    let Some(essence) = essence else {
        return Err(format!(
            "{what}: documented with a body ({:?}) but the response has no Content-Type",
            content.keys().collect::<Vec<_>>()
        ));
    };
    let media = content.keys().find(|m| {
        let m = m.as_str();
        m == essence
            || m == "*/*"
            || m.strip_suffix("/*")
                .is_some_and(|prefix| essence.starts_with(&format!("{prefix}/")))
    });
    let Some(media) = media else {
        return Err(format!(
            "{what}: Content-Type {essence} is not documented (documented: {:?})",
            content.keys().collect::<Vec<_>>()
        ));
    };
    if is_json(media) {
        let schema_pointer = format!("{response_pointer}/content/{}/schema", escape(media));
        return validate_json(&schema_pointer, body, &what);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Route coverage: the sources and the document agree, and the router serves every
// documented operation.

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_file(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// Skips a Rust string literal starting at `i` (the opening quote); returns the index after
/// the closing quote.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// `(method, path)` of every `.route("…", get(..).post(..))` call in `source`: the path
/// literal, then every method-router call (`get(`, `axum::routing::post(`, …) directly
/// inside the `.route(` parentheses.
fn parse_routes(source: &str, file: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(at) = source[from..].find(".route(") {
        let start = from + at + ".route(".len();
        from = start;
        let rest = source[start..].trim_start();
        let Some(literal) = rest.strip_prefix('"') else {
            panic!("{file}: a .route( call without a string literal path");
        };
        let path = &literal[..literal.find('"').unwrap()];
        let mut i = start + (source[start..].len() - rest.len());
        i = skip_string(bytes, i);
        let mut depth = 1;
        let mut methods = Vec::new();
        while i < bytes.len() && depth > 0 {
            match bytes[i] {
                b'"' => {
                    i = skip_string(bytes, i);
                    continue;
                }
                b'(' => {
                    if depth == 1 {
                        let ident: String = source[..i]
                            .chars()
                            .rev()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        if METHODS.contains(&ident.as_str()) {
                            methods.push(ident);
                        }
                    }
                    depth += 1;
                }
                b')' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        assert!(
            !methods.is_empty(),
            "{file}: no method router found for .route(\"{path}\", …)"
        );
        for m in methods {
            found.push((m, path.to_string()));
        }
    }
    found
}

/// Route sources the shared router is built from: `handlers/src/lib.rs` merges
/// (`routes::…` → every module merged in `handlers/src/routes.rs`), plus the server host's
/// own routes (the WebSocket).
fn source_routes() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    let lib = read("handlers/src/lib.rs");
    for merged in lib.split(".merge(").skip(1) {
        let module = merged.split("::").next().unwrap().trim();
        if module == "routes" {
            continue;
        }
        files.push(format!("handlers/src/{module}.rs"));
    }
    let routes = read("handlers/src/routes.rs");
    for merged in routes.split(".merge(").skip(1) {
        let module = merged.split("::").next().unwrap().trim();
        files.push(format!("handlers/src/routes/{module}.rs"));
    }
    files.push("adapters/server/src/commands/serve.rs".to_string());
    let mut all = BTreeSet::new();
    for file in files {
        for route in parse_routes(&read(&file), &file) {
            all.insert(route);
        }
    }
    all
}

fn documented_operations() -> BTreeSet<(String, String)> {
    let mut all = BTreeSet::new();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if METHODS.contains(&method.as_str()) {
                all.insert((method.clone(), path.clone()));
            }
        }
    }
    all
}

#[test]
fn every_route_in_the_source_is_documented_and_back() {
    let source = source_routes();
    let documented = documented_operations();
    assert!(
        source.len() > 40,
        "the route parser found too few routes: {source:?}"
    );
    let undocumented: Vec<_> = source.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&source).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from handlers/openapi.json: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "operations in handlers/openapi.json that no route source declares: {unserved:?}"
    );
}

#[test]
fn route_parser_reads_method_chains() {
    let source = r#"
        Router::new()
            .route("/a/{id}", get(list).post(create))
            .route("/b", post(create).layer(DefaultBodyLimit::disable()))
            .route("/c", get(|| async { ok(json!({"status": "ok)"})) }))
            .route("/ws", axum::routing::get(ws::handler))
    "#;
    let routes = parse_routes(source, "inline");
    let expect = [
        ("get", "/a/{id}"),
        ("post", "/a/{id}"),
        ("post", "/b"),
        ("get", "/c"),
        ("get", "/ws"),
    ];
    let expect: Vec<(String, String)> = expect
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(routes, expect);
}

#[tokio::test]
async fn the_router_serves_every_documented_operation() {
    let app = TestApp::new().await;
    let passes = [None, Some(app.owner.token.clone())];
    for (token, (method, path)) in passes
        .iter()
        .flat_map(|t| documented_operations().into_iter().map(move |op| (t, op)))
    {
        let operation = &document()["paths"][&path][&method];
        if operation.get("x-clickclack-host").is_some() {
            continue; // the WebSocket: only `clickclack serve` adds it (checked from source)
        }
        if token.is_some() && path == "/api/auth/logout" {
            continue; // would end the session the other probes use
        }
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "probe" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        // `send` validates the answer against the document as well.
        let mut req = app.req(method.clone(), &concrete);
        if let Some(token) = token {
            req = req.token(token);
        }
        let res = req.send().await;
        assert_ne!(
            res.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: 405 {}",
            res.text
        );
        let unknown_route = res.status == StatusCode::NOT_FOUND
            && res.body["code"] == "not_found"
            && res.body["error"] == "route not found";
        assert!(
            !unknown_route,
            "{method} {path} is documented but the router does not serve it"
        );
    }
}

#[tokio::test]
async fn the_document_is_served_without_auth() {
    let app = TestApp::new().await;
    let res = app.get("/api/openapi.json").send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        res.headers["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(&res.body, document());
}

// ---------------------------------------------------------------------------------------
// The document itself.

fn collect_refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push((at.to_string(), v.as_str().unwrap_or("").to_string()));
                } else {
                    collect_refs(v, &format!("{at}/{}", escape(k)), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"].as_str().unwrap_or("");
    assert!(version.starts_with("3.1."), "openapi is {version:?}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let mut refs = Vec::new();
    collect_refs(doc, "", &mut refs);
    assert!(!refs.is_empty());
    for (at, reference) in &refs {
        assert!(
            reference.starts_with("#/") && resolve(doc, reference).is_some(),
            "{at}: $ref {reference:?} does not resolve"
        );
    }

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in REQUIRED_SCHEMAS {
        assert!(
            schemas.contains_key(name),
            "components.schemas.{name} missing"
        );
    }
    for name in schemas.keys() {
        validator(&format!("/components/schemas/{}", escape(name)));
    }

    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        for (method, operation) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            let name = format!("{method} {path}");
            let id = operation["operationId"].as_str().unwrap_or("");
            assert!(!id.is_empty(), "{name}: operationId");
            assert!(
                operation_ids.insert(id.to_string()),
                "{name}: duplicate {id}"
            );
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: summary"
            );
            let op_tags = operation["tags"].as_array().expect("tags");
            assert_eq!(op_tags.len(), 1, "{name}: one tag");
            assert!(tags.contains(op_tags[0].as_str().unwrap()), "{name}: tag");
            let security = operation.get("security").unwrap_or(&doc["security"]);
            for requirement in security.as_array().unwrap() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(scheme), "{name}: scheme {scheme}");
                }
            }

            let pointer = format!("/paths/{}/{method}", escape(path));
            let mut declared = BTreeSet::new();
            let count = operation["parameters"].as_array().map_or(0, Vec::len);
            for i in 0..count {
                let (_, parameter) = deref(doc, format!("{pointer}/parameters/{i}"));
                assert!(parameter["schema"].is_object(), "{name}: parameter schema");
                if parameter["in"] == "path" {
                    assert_eq!(parameter["required"], true, "{name}: path params required");
                    declared.insert(parameter["name"].as_str().unwrap().to_string());
                }
            }
            assert_eq!(declared, in_path, "{name}: path parameters");

            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses
                    .keys()
                    .any(|s| s.starts_with('1') || s.starts_with('2') || s.starts_with('3')),
                "{name}: no success response"
            );
            for status in responses.keys() {
                let (at, response) = deref(doc, format!("{pointer}/responses/{}", escape(status)));
                assert!(response["description"].is_string(), "{at}: description");
                let authed = security.as_array().is_some_and(|s| !s.is_empty());
                if authed && status == "default" {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error",
                        "{name}: default is the Error shape"
                    );
                }
                if let Some(content) = response["content"].as_object() {
                    for media in content.keys() {
                        validator(&format!("{at}/content/{}/schema", escape(media)));
                    }
                }
            }
            let authed = security.as_array().is_some_and(|s| !s.is_empty());
            if authed {
                assert!(responses.contains_key("401"), "{name}: documents 401");
            }
        }
    }
}

#[test]
fn path_templates_prefer_literal_segments() {
    assert_eq!(
        template_for("/api/messages/by-nonce").as_deref(),
        Some("/api/messages/by-nonce")
    );
    assert_eq!(
        template_for("/api/messages/msg_1").as_deref(),
        Some("/api/messages/{message_id}")
    );
    assert_eq!(
        template_for("/api/uploads/presign").as_deref(),
        Some("/api/uploads/presign")
    );
    assert_eq!(template_for("/api/nope"), None);
    assert_eq!(template_for("/api/messages/"), None);
}

#[test]
fn shape_check_reports_undocumented_fields_and_statuses() {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    let user = json!({"id": "usr_1", "display_name": "A", "avatar_url": "", "kind": "human",
        "created_at": "2026-01-01T00:00:00Z"});
    let good = json!({"user": user}).to_string();
    check_response(
        &Method::GET,
        "/api/me",
        StatusCode::OK,
        &headers,
        good.as_bytes(),
    )
    .unwrap();
    let mut extra = user.clone();
    extra["surprise"] = json!(1);
    let bad = json!({"user": extra}).to_string();
    let err = check_response(
        &Method::GET,
        "/api/me",
        StatusCode::OK,
        &headers,
        bad.as_bytes(),
    )
    .unwrap_err();
    assert!(err.contains("/user"), "{err}");
    let err = check_response(
        &Method::GET,
        "/api/me",
        StatusCode::CREATED,
        &headers,
        good.as_bytes(),
    )
    .unwrap_err();
    assert!(err.contains("not documented"), "{err}");
    let error = json!({"error": "route not found", "code": "not_found"}).to_string();
    check_response(
        &Method::GET,
        "/api/nope",
        StatusCode::NOT_FOUND,
        &headers,
        error.as_bytes(),
    )
    .unwrap();
}
