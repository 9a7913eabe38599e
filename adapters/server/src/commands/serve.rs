//! `clickclack serve`: resolve settings, prepare `<data>/`, open and migrate the store,
//! optionally seed the dev workspace, then [`run`] until SIGINT/SIGTERM and flush the
//! writer.

use crate::cli::ServeArgs;
use crate::config::ServeConfig;
use crate::error::CliError;
use crate::realtime::{tailer, ws, Hub};
use clickclack_handlers::limits::RateLimits;
use clickclack_handlers::outgoing::Outgoing;
use clickclack_handlers::{AppState, Gauge, HttpConfig};
use clickclack_runtime::chat::{Chat, ChatConfig};
use clickclack_runtime::uploads::UploadStore;
use clickclack_runtime::ErrorKind;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long in-flight requests (long-polls included) may take to finish after a shutdown
/// signal before the server stops waiting for them.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The dev workspace's first user (reference §5.5).
pub const DEV_USER_NAME: &str = "Local Captain";
pub const DEV_USER_EMAIL: &str = "local@clickclack.chat";

pub async fn execute(args: ServeArgs) -> Result<(), CliError> {
    let config = ServeConfig::from_args(&args)?;
    // Install signal handlers before anything can report readiness, so an early SIGTERM
    // is a clean shutdown rather than the default kill.
    let signals = Signals::install()?;
    config.store.create_dirs()?;
    let mut hub = Hub::new();
    if let Some(seconds) = config.ws_ping_seconds {
        hub = hub.with_ping_every(Duration::from_secs(seconds));
    }
    let hub = Arc::new(hub);
    let store = super::open_store_with(&config.store, config.sync, Some(hub.clone())).await?;
    let uploads = UploadStore::open(&config.uploads).map_err(|e| {
        let message = format!("--uploads: {}", e.message);
        match e.kind {
            ErrorKind::Invalid => CliError::usage(message),
            _ => CliError::failed(message),
        }
    })?;
    tracing::info!(uploads = %uploads.url(), max_upload_bytes = config.max_upload_bytes, "upload store ready");
    let chat = Chat::new(
        store.clone(),
        ChatConfig {
            max_upload_bytes: config.max_upload_bytes,
            upload_quota_bytes: config.upload_quota_bytes,
            ..ChatConfig::default()
        },
    )
    .with_uploads(uploads);
    let tailer = tokio::spawn(tailer::run(store.clone(), hub.clone()));
    let (stop_webhooks, webhooks_stopping) = tokio::sync::oneshot::channel::<()>();
    let webhooks = config.webhooks_worker.then(|| {
        let outgoing = Outgoing::new(chat.clone(), config.webhooks.clone());
        tokio::spawn(outgoing.run(async move {
            let _ = webhooks_stopping.await;
        }))
    });
    let (stop_sweep, sweep_stopping) = tokio::sync::oneshot::channel::<()>();
    let sweep_policy = super::uploads::policy(None, None)?;
    let sweeper = super::uploads::sweep_interval()?.map(|interval| {
        let stopping = async move {
            let _ = sweep_stopping.await;
        };
        tokio::spawn(super::uploads::run_periodic(
            chat.clone(),
            sweep_policy,
            interval,
            stopping,
        ))
    });
    let outcome = serve_store(&config, chat, hub.clone(), signals).await;
    hub.begin_shutdown();
    let _ = stop_webhooks.send(());
    let _ = stop_sweep.send(());
    if let Some(worker) = webhooks {
        let _ = worker.await;
    }
    if let Some(sweeper) = sweeper {
        let _ = sweeper.await;
    }
    let _ = tailer.await;
    store.close().await;
    tracing::info!("stopped");
    outcome
}

async fn serve_store(
    config: &ServeConfig,
    chat: Chat,
    hub: Arc<Hub>,
    signals: Signals,
) -> Result<(), CliError> {
    if config.dev_bootstrap {
        let boot = chat.bootstrap(DEV_USER_NAME, DEV_USER_EMAIL).await?;
        tracing::info!(
            user_id = %boot.user.id,
            "dev auth user: {} ({})",
            boot.user.display_name,
            boot.user.id
        );
    } else {
        tracing::info!("dev auth is off");
    }
    let listener = TcpListener::bind(&config.addr)
        .await
        .map_err(|e| CliError::failed(format!("cannot listen on {}: {e}", config.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::failed(format!("cannot read the listening address: {e}")))?;
    let sockets = hub.clone();
    let http = HttpConfig {
        dev_auth: config.dev_bootstrap,
        public_url: config.public_url.clone(),
        transports: vec!["ws", "poll"],
        max_upload_bytes: config.max_upload_bytes,
        github: config.github.clone(),
        metrics_enabled: config.metrics_enabled,
        websockets_open: Some(Gauge::new(move || sockets.open_sockets() as u64)),
        rate_limits: RateLimits::per_minute(
            config.rate_limit_writes_per_minute,
            config.rate_limit_auth_per_minute,
        ),
        ..HttpConfig::default()
    };
    tracing::info!(
        db = %config.store.db.describe(),
        sync = config.sync.as_str(),
        "ClickClack listening on {}",
        display_url(local)
    );
    run(listener, AppState::new(chat, http), hub, signals.recv())
        .await
        .map_err(|e| CliError::failed(format!("server error: {e}")))
}

/// The server's router: the shared app plus the WebSocket route, with the hub reachable
/// as an extension.
pub fn router(state: AppState, hub: Arc<Hub>) -> axum::Router {
    let routes = clickclack_handlers::router()
        .route("/api/realtime/ws", axum::routing::get(ws::handler))
        .layer(axum::Extension(hub));
    clickclack_handlers::finish(routes, state)
}

/// Serves the app on `listener` until `shutdown` resolves, then closes WebSockets with
/// 1001, stops accepting, lets in-flight requests finish (at most [`DRAIN_TIMEOUT`]) and
/// returns. The caller owns the store and closes it afterwards. Tests pass a port-0
/// listener and a oneshot. The store should notify `hub` (see `StoreOptions::notifier`).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    hub.attach(state.chat().clone());
    let app = router(state, hub.clone());
    let (stopping_tx, mut stopping) = watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: closing sockets, draining in-flight requests");
        hub.begin_shutdown();
        let _ = stopping_tx.send(true);
    });
    let drain_deadline = async move {
        if stopping.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        served = server => served,
        () = drain_deadline => {
            tracing::warn!(timeout_seconds = DRAIN_TIMEOUT.as_secs(), "requests still running after the drain timeout; stopping anyway");
            Ok(())
        }
    }
}

/// The URL to print for a bound address (`localhost` for a wildcard bind).
pub fn display_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), registered eagerly.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> Result<Signals, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let install = |kind: SignalKind| {
                signal(kind)
                    .map_err(|e| CliError::failed(format!("cannot install signal handlers: {e}")))
            };
            Ok(Signals {
                interrupt: install(SignalKind::interrupt())?,
                terminate: install(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Resolves on the first signal.
    pub async fn recv(self) {
        #[cfg(unix)]
        {
            let Signals {
                mut interrupt,
                mut terminate,
            } = self;
            tokio::select! {
                _ = interrupt.recv() => tracing::info!(signal = "SIGINT", "signal received"),
                _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "signal received"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!(signal = "ctrl-c", "signal received");
        }
    }
}
