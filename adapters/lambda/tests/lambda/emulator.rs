//! The real `bootstrap` binary under a Lambda Runtime API emulator (`lambda-simulator`):
//! the process polls `/runtime/invocation/next`, gets API Gateway / Function URL events and
//! posts API Gateway responses, exactly as on Lambda. Two "instances" share one database
//! file, so a long-poll parked on one is woken by a post handled by the other.
//!
//! Prints cold-start and warm-latency numbers (`cargo test -p clickclack-lambda --release
//! -- --nocapture emulator` for release figures).

use crate::common::{Call, Kind, Seed};
use axum::http::StatusCode;
use lambda_simulator::{InvocationStatus, Simulator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One function instance: an emulator plus the `bootstrap` process polling it.
struct Instance {
    sim: Simulator,
    child: Child,
    log: PathBuf,
    spawned: Instant,
}

/// An API Gateway response as the runtime posted it.
struct Answer {
    status: StatusCode,
    json: Value,
    took: Duration,
}

fn bootstrap_command(sim: &Simulator, db: &Path, log: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bootstrap"));
    for key in [
        "CLICKCLACK_DATA",
        "CLICKCLACK_DEV_BOOTSTRAP",
        "CLICKCLACK_MAX_WAIT_SECONDS",
        "CLICKCLACK_PUBLIC_URL",
        "CLICKCLACK_SYNC",
        "RUST_LOG",
        "AWS_LAMBDA_LOG_LEVEL",
    ] {
        cmd.env_remove(key);
    }
    let log_file = std::fs::File::create(log).unwrap();
    cmd.envs(sim.lambda_env_vars())
        .env("CLICKCLACK_DB", db)
        .env("AWS_LAMBDA_FUNCTION_TIMEOUT", "30")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file);
    cmd
}

async fn simulator(name: &str) -> Simulator {
    Simulator::builder()
        .function_name(name)
        .invocation_timeout(Duration::from_secs(30))
        .build()
        .await
        .unwrap()
}

impl Instance {
    async fn start(seed: &Seed, name: &str) -> Instance {
        let sim = simulator(name).await;
        let log = seed.dir.path().join(format!("{name}.log"));
        let spawned = Instant::now();
        let child = bootstrap_command(&sim, &seed.db, &log).spawn().unwrap();
        Instance {
            sim,
            child,
            log,
            spawned,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Time from spawn until the runtime first polls `/next` (init done).
    async fn wait_initialized(&self) -> Duration {
        self.sim
            .wait_for(|| self.sim.is_initialized(), Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("bootstrap never polled /next: {e}\n{}", self.log()));
        self.spawned.elapsed()
    }

    async fn invoke(&self, call: &Call) -> Answer {
        let started = Instant::now();
        let id = self.sim.enqueue_payload(call.event()).await;
        let state = self
            .sim
            .wait_for_invocation_complete(&id, Duration::from_secs(40))
            .await
            .unwrap_or_else(|e| panic!("invocation failed: {e}\nbootstrap log:\n{}", self.log()));
        let took = started.elapsed();
        assert_eq!(
            state.status,
            InvocationStatus::Success,
            "{:?}\nbootstrap log:\n{}",
            state.error,
            self.log()
        );
        let payload = state.response.expect("a response").payload;
        assert_eq!(payload["isBase64Encoded"], false, "{payload}");
        let status = payload["statusCode"].as_u64().expect("statusCode") as u16;
        let body = payload["body"].as_str().unwrap_or_default();
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            json: serde_json::from_str(body).unwrap_or(Value::Null),
            took,
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[track_caller]
fn expect(answer: Answer, status: StatusCode) -> Answer {
    assert_eq!(answer.status, status, "body: {}", answer.json);
    answer
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "n={} median {} p95 {} max {}",
        samples.len(),
        millis(pick(0.5)),
        millis(pick(0.95)),
        millis(*samples.last().unwrap())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bootstrap_serves_the_chat_under_the_runtime_api_emulator() {
    let seed = Seed::new(1).await;
    let a = Arc::new(Instance::start(&seed, "clickclack-a").await);

    // Cold start of instance A: the first event is queued as the process starts.
    let consumed = expect(
        a.invoke(
            &Call::post(Kind::FunctionUrl, "/api/auth/magic/consume")
                .json(json!({"token": seed.magic_tokens[0]})),
        )
        .await,
        StatusCode::OK,
    );
    let cold_a = a.spawned.elapsed();
    let token = consumed.json["token"].as_str().unwrap().to_string();

    // Instance B shares the database; init measured separately from its first response.
    let b = Arc::new(Instance::start(&seed, "clickclack-b").await);
    let init_b = b.wait_initialized().await;
    let events = "/api/realtime/events";
    let tail = expect(
        b.invoke(
            &Call::get(Kind::RestApiV1, events)
                .bearer(&token)
                .query("workspace_id", &seed.workspace_id)
                .query("include_tail", "true"),
        )
        .await,
        StatusCode::OK,
    );
    let cold_b = b.spawned.elapsed();
    let tail_cursor = tail.json["tail_cursor"].as_str().unwrap().to_string();

    let caps = expect(
        b.invoke(&Call::get(Kind::RestApiV1, "/api/capabilities"))
            .await,
        StatusCode::OK,
    );
    assert_eq!(caps.json["transports"], json!(["poll"]));
    assert_eq!(caps.json["limits"]["max_wait_seconds"], 25);

    // B parks a long-poll; A handles the post; B's long-poll re-reads the log and returns.
    let waiting = {
        let b = b.clone();
        let call = Call::get(Kind::RestApiV1, events)
            .bearer(&token)
            .query("workspace_id", &seed.workspace_id)
            .query("after_cursor", &tail_cursor)
            .query("wait", "20");
        tokio::spawn(async move { b.invoke(&call).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "the long-poll must wait for an event"
    );
    let messages = format!("/api/channels/{}/messages", seed.general_id);
    let posted = expect(
        a.invoke(
            &Call::post(Kind::FunctionUrl, &messages)
                .bearer(&token)
                .json(json!({"body": "hello from instance A"})),
        )
        .await,
        StatusCode::CREATED,
    );
    let posted_at = Instant::now();
    let message_id = posted.json["message"]["id"].as_str().unwrap().to_string();
    let woken = expect(waiting.await.unwrap(), StatusCode::OK);
    let wake_delay = posted_at.elapsed();
    let pulled = woken.json["events"].as_array().unwrap();
    assert_eq!(pulled.len(), 1, "{}", woken.json);
    assert_eq!(pulled[0]["type"], "message.created");
    assert_eq!(pulled[0]["payload"]["message_id"], message_id.as_str());
    assert!(
        woken.took < Duration::from_secs(10),
        "long-poll took {:?}",
        woken.took
    );

    let listed = expect(
        b.invoke(&Call::get(Kind::RestApiV1, &messages).bearer(&token))
            .await,
        StatusCode::OK,
    );
    assert_eq!(
        listed.json["messages"].as_array().unwrap().last().unwrap()["id"],
        message_id.as_str()
    );

    // Warm latency on A: reads and writes, each a full Runtime API round trip.
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    for i in 0..30 {
        let me = expect(
            a.invoke(&Call::get(Kind::FunctionUrl, "/api/me").bearer(&token))
                .await,
            StatusCode::OK,
        );
        reads.push(me.took);
        let post = expect(
            a.invoke(
                &Call::post(Kind::FunctionUrl, &messages)
                    .bearer(&token)
                    .json(json!({"body": format!("warm {i}")})),
            )
            .await,
            StatusCode::CREATED,
        );
        writes.push(post.took);
    }
    println!(
        "lambda emulator ({} build): cold start A (spawn → first response, magic-link consume) {}; \
         B init (spawn → first /next) {}, cold start B (spawn → first response) {}; \
         long-poll wake after the post on the other instance {}; \
         warm GET /api/me {}; warm POST message {}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        millis(cold_a),
        millis(init_b),
        millis(cold_b),
        millis(wake_delay),
        summary(reads),
        summary(writes),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_exits_non_zero_on_an_unmigrated_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    std::fs::write(&db, b"").unwrap();
    let log = dir.path().join("bootstrap.log");
    let sim = simulator("clickclack-unmigrated").await;
    let mut child = bootstrap_command(&sim, &db, &log).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("bootstrap kept running on an unmigrated database");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "exit status {status:?}; log:\n{output}");
    assert!(
        output.contains("database schema is not current") && output.contains("clickclack migrate"),
        "log:\n{output}"
    );
    assert!(
        !sim.is_initialized().await,
        "it must fail before polling for events"
    );
}
