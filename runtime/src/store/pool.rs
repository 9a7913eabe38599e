use super::{DbLocation, SyncMode};
use crate::Result;
use libsql::{Connection, Database};
use std::ops::Deref;
use std::sync::{Arc, Mutex};

const KEEP: usize = 16;

/// A small pool of read connections.
pub(crate) struct Pool {
    db: Arc<Database>,
    location: DbLocation,
    sync: SyncMode,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Pool {
    pub(crate) fn new(db: Arc<Database>, location: DbLocation, sync: SyncMode) -> Self {
        Self {
            db,
            location,
            sync,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) async fn get(&self) -> Result<Reader> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = self.db.connect()?;
                super::configure(&conn, &self.location, self.sync).await?;
                conn
            }
        };
        Ok(Reader {
            conn: Some(conn),
            idle: self.idle.clone(),
        })
    }
}

/// A read connection that goes back to the pool when dropped.
pub struct Reader {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Deref for Reader {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("reader connection present until drop")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() {
                return;
            }
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < KEEP {
                idle.push(conn);
            }
        }
    }
}
