//! The single writer: one task owns the write connection and commits queued commands in
//! batches (group commit). Commands of one batch share a transaction and one fsync; each
//! runs inside its own SAVEPOINT, so a failing command is rolled back alone and every
//! caller gets its own result. Results are released only after COMMIT returns.

use crate::notify::SharedNotifier;
use crate::{Error, Result};
use libsql::Connection;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};

type Completion = Box<dyn FnOnce(Result<(), Error>) + Send>;
type JobFuture = Pin<Box<dyn Future<Output = (bool, Completion)> + Send>>;

struct Job {
    run: Box<dyn FnOnce(Tx) -> JobFuture + Send>,
    /// Answers the caller when the job never gets to run.
    fail: Box<dyn FnOnce(Error) + Send>,
}

enum Command {
    Job(Job),
    Close(oneshot::Sender<()>),
}

/// An event written inside a transaction, announced after commit.
#[derive(Debug, Clone)]
pub(crate) struct EmittedEvent {
    pub workspace_id: String,
    pub position: i64,
}

/// The write transaction handed to a command. Cheap to clone.
#[derive(Clone)]
pub struct Tx {
    conn: Connection,
    emitted: Arc<Mutex<Vec<EmittedEvent>>>,
}

impl Tx {
    /// The connection, inside the open transaction.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn record(&self, event: EmittedEvent) {
        self.emitted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }

    fn take(&self) -> Vec<EmittedEvent> {
        std::mem::take(&mut *self.emitted.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl std::ops::Deref for Tx {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Counters of the writer, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriterStats {
    pub batches: u64,
    pub commands: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    commands: AtomicU64,
}

pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Command>,
    counters: Arc<Counters>,
}

impl WriterHandle {
    pub(crate) async fn run<T, F, Fut>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Tx) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel::<Result<T>>();
        let slot = Arc::new(Mutex::new(Some(done_tx)));
        let fail_slot = slot.clone();
        let fail = Box::new(move |err: Error| {
            if let Some(tx) = fail_slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = tx.send(Err(err));
            }
        });
        let run = Box::new(move |tx: Tx| -> JobFuture {
            Box::pin(async move {
                let Some(done_tx) = slot.lock().unwrap_or_else(|p| p.into_inner()).take() else {
                    let noop: Completion = Box::new(|_| {});
                    return (false, noop);
                };
                match f(tx).await {
                    Ok(value) => {
                        let completion: Completion = Box::new(move |commit: Result<()>| {
                            let _ = done_tx.send(commit.map(|()| value));
                        });
                        (true, completion)
                    }
                    Err(e) => {
                        let completion: Completion = Box::new(move |_| {
                            let _ = done_tx.send(Err(e));
                        });
                        (false, completion)
                    }
                }
            })
        });
        self.tx
            .send(Command::Job(Job { run, fail }))
            .await
            .map_err(|_| Error::unavailable("database writer stopped"))?;
        done_rx
            .await
            .map_err(|_| Error::unavailable("database writer stopped"))?
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            commands: self.counters.commands.load(Ordering::Relaxed),
        }
    }

    pub(crate) async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Close(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

pub(crate) fn spawn(
    conn: Connection,
    notifier: SharedNotifier,
    commits: watch::Sender<i64>,
    max_batch: usize,
) -> WriterHandle {
    let (tx, rx) = mpsc::channel::<Command>(4096);
    let counters = Arc::new(Counters::default());
    let thread_counters = counters.clone();
    std::thread::Builder::new()
        .name("clickclack-writer".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("writer runtime");
            runtime.block_on(writer_loop(
                conn,
                rx,
                notifier,
                commits,
                max_batch,
                thread_counters,
            ));
        })
        .expect("spawn writer thread");
    WriterHandle { tx, counters }
}

async fn writer_loop(
    conn: Connection,
    mut rx: mpsc::Receiver<Command>,
    notifier: SharedNotifier,
    commits: watch::Sender<i64>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Some(first) = rx.recv().await else { break };
        let mut batch = Vec::with_capacity(16);
        match first {
            Command::Job(job) => batch.push(job),
            Command::Close(done) => {
                closing = Some(done);
            }
        }
        while closing.is_none() && batch.len() < max_batch {
            match rx.try_recv() {
                Ok(Command::Job(job)) => batch.push(job),
                Ok(Command::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .commands
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&conn, batch, &notifier, &commits).await;
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

async fn commit_batch(
    conn: &Connection,
    batch: Vec<Job>,
    notifier: &SharedNotifier,
    commits: &watch::Sender<i64>,
) {
    if let Err(e) = conn.execute("BEGIN IMMEDIATE", ()).await {
        let err = Error::from(e);
        tracing::error!(error = %err, "cannot begin write transaction");
        for job in batch {
            (job.fail)(err.clone());
        }
        return;
    }
    let mut completions = Vec::with_capacity(batch.len());
    let mut emitted = Vec::new();
    for job in batch {
        if let Err(e) = conn.execute("SAVEPOINT cmd", ()).await {
            (job.fail)(Error::from(e));
            continue;
        }
        let tx = Tx {
            conn: conn.clone(),
            emitted: Default::default(),
        };
        let (ok, completion) = (job.run)(tx.clone()).await;
        if ok {
            let _ = conn.execute("RELEASE cmd", ()).await;
            emitted.extend(tx.take());
        } else {
            let _ = conn.execute("ROLLBACK TO cmd", ()).await;
            let _ = conn.execute("RELEASE cmd", ()).await;
        }
        completions.push(completion);
    }
    match conn.execute("COMMIT", ()).await {
        Ok(_) => {
            for completion in completions {
                completion(Ok(()));
            }
            announce(emitted, notifier, commits);
        }
        Err(e) => {
            let err = Error::from(e);
            tracing::error!(error = %err, "group commit failed");
            let _ = conn.execute("ROLLBACK", ()).await;
            for completion in completions {
                completion(Err(Error::unavailable("the write could not be committed")));
            }
        }
    }
}

fn announce(emitted: Vec<EmittedEvent>, notifier: &SharedNotifier, commits: &watch::Sender<i64>) {
    if emitted.is_empty() {
        return;
    }
    let mut newest: HashMap<String, i64> = HashMap::new();
    for e in emitted {
        let slot = newest.entry(e.workspace_id).or_insert(e.position);
        *slot = (*slot).max(e.position);
    }
    commits.send_modify(|generation| *generation += 1);
    for (workspace_id, position) in newest {
        notifier.notify(&workspace_id, position);
    }
}
