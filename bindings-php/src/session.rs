//! What one `Shardis\Client` / `Shardis\Cluster` object holds: a handle on the (shared,
//! process-persistent) core, and phpredis' queued modes. In `pipeline()` or `multi()` mode a
//! command is queued and the method returns the object itself (chaining), and `exec()`
//! returns every reply.

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use shardis::{Cmd, Transaction, Value};

use crate::errors::{to_exception, usage_error};
use crate::reply::{self, Shape};

/// phpredis' modes.
enum Queue {
    /// Every call runs at once.
    Direct,
    /// `pipeline()`: commands collect until `exec()`, then run in one batch per node.
    Pipeline(Vec<(Cmd, Shape)>),
    /// `multi()`: commands queue in a MULTI/EXEC transaction on one slot. Once a command is
    /// refused at queue time, `exec()` runs nothing (Redis' EXECABORT).
    Multi(Box<Transaction>, Vec<Shape>, Option<String>),
}

/// The state behind one PHP client object.
pub(crate) struct Session {
    pub(crate) core: shardis::Client,
    queue: Queue,
    /// `watch()` before `multi()`: the transaction that holds the watched keys.
    watching: Option<Transaction>,
    last_error: Option<String>,
}

/// The PHP classes that carry a [`Session`].
pub(crate) trait HasSession: RegisteredClass {
    /// The session.
    fn session(&mut self) -> &mut Session;
}

/// The session of a PHP object (a subclass that skipped `parent::__construct()` has none).
pub(crate) fn session_of<T: HasSession>(
    obj: &mut ZendClassObject<T>,
) -> Result<&mut Session, PhpException> {
    obj.obj
        .as_mut()
        .map(HasSession::session)
        .ok_or_else(|| usage_error("the client was not constructed (call parent::__construct())"))
}

fn this<T: HasSession>(obj: &mut ZendClassObject<T>) -> Result<Zval, PhpException> {
    obj.into_zval(false)
        .map_err(|e| crate::errors::internal(format!("returning the client: {e}")))
}

impl Session {
    /// A session over `core`.
    pub(crate) fn new(core: shardis::Client) -> Session {
        Session {
            core,
            queue: Queue::Direct,
            watching: None,
            last_error: None,
        }
    }

    fn fail(&mut self, e: &shardis::Error) -> PhpException {
        self.last_error = Some(e.to_string());
        to_exception(e)
    }

    /// Run now and return the raw core reply (for methods that post-process, like `scan`).
    pub(crate) fn execute(&mut self, cmd: &Cmd) -> Result<Value, PhpException> {
        self.core.execute(cmd).map_err(|e| self.fail(&e))
    }

    /// Is a pipeline or transaction being queued?
    pub(crate) fn queued(&self) -> bool {
        !matches!(self.queue, Queue::Direct)
    }

    /// phpredis' `getLastError()`.
    pub(crate) fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// phpredis' `clearLastError()`.
    pub(crate) fn clear_last_error(&mut self) {
        self.last_error = None;
    }
}

/// Run `cmd` now (reply shaped by `shape`), or queue it and return the object for chaining.
pub(crate) fn run<T: HasSession>(
    obj: &mut ZendClassObject<T>,
    cmd: Cmd,
    shape: Shape,
) -> Result<Zval, PhpException> {
    let s = session_of(obj)?;
    match &mut s.queue {
        Queue::Direct => match s.core.execute(&cmd) {
            Ok(v) => reply::shape(v, &shape),
            Err(e) => Err(s.fail(&e)),
        },
        Queue::Pipeline(q) => {
            q.push((cmd, shape));
            this(obj)
        }
        Queue::Multi(tx, shapes, aborted) => match tx.queue(cmd) {
            Ok(_) => {
                shapes.push(shape);
                this(obj)
            }
            Err(e) => {
                aborted.get_or_insert_with(|| e.to_string());
                Err(s.fail(&e))
            }
        },
    }
}

/// `pipeline()`.
pub(crate) fn pipeline<T: HasSession>(obj: &mut ZendClassObject<T>) -> Result<Zval, PhpException> {
    let s = session_of(obj)?;
    if s.queued() {
        return Err(usage_error("pipeline(): already in pipeline or multi mode"));
    }
    s.queue = Queue::Pipeline(Vec::new());
    this(obj)
}

/// `multi()`: a MULTI/EXEC transaction (its keys must share one slot / shard).
pub(crate) fn multi<T: HasSession>(obj: &mut ZendClassObject<T>) -> Result<Zval, PhpException> {
    let s = session_of(obj)?;
    if s.queued() {
        return Err(usage_error("multi(): already in pipeline or multi mode"));
    }
    let tx = s.watching.take().unwrap_or_else(|| s.core.transaction());
    s.queue = Queue::Multi(Box::new(tx), Vec::new(), None);
    this(obj)
}

/// `watch($key, ...)`: watched keys pin the transaction's node.
pub(crate) fn watch<T: HasSession>(
    obj: &mut ZendClassObject<T>,
    keys: Cmd,
) -> Result<bool, PhpException> {
    let s = session_of(obj)?;
    if s.queued() {
        return Err(usage_error(
            "watch(): not allowed inside pipeline or multi mode",
        ));
    }
    let mut tx = s.watching.take().unwrap_or_else(|| s.core.transaction());
    let keys: Vec<&[u8]> = keys.args().collect();
    let result = tx.watch(&keys);
    // A refused or failed WATCH keeps the keys already watched: the next exec() must still
    // fail if one of them changed (the core marks a transaction whose WATCH connection broke).
    s.watching = Some(tx);
    result.map(|()| true).map_err(|e| s.fail(&e))
}

/// `unwatch()`.
pub(crate) fn unwatch<T: HasSession>(obj: &mut ZendClassObject<T>) -> Result<bool, PhpException> {
    let s = session_of(obj)?;
    if let Some(tx) = s.watching.take() {
        tx.discard();
    }
    Ok(true)
}

/// `discard()`: drop the queued pipeline or transaction.
pub(crate) fn discard<T: HasSession>(obj: &mut ZendClassObject<T>) -> Result<bool, PhpException> {
    let s = session_of(obj)?;
    match std::mem::replace(&mut s.queue, Queue::Direct) {
        Queue::Multi(tx, _, _) => {
            tx.discard();
            Ok(true)
        }
        Queue::Pipeline(_) => Ok(true),
        Queue::Direct => Err(usage_error("discard(): not in pipeline or multi mode")),
    }
}

fn list(items: Vec<Zval>) -> Result<Zval, PhpException> {
    let mut ht = ZendHashTable::with_capacity(u32::try_from(items.len()).unwrap_or(0));
    for z in items {
        ht.push(z)
            .map_err(|e| crate::errors::internal(format!("building the reply array: {e}")))?;
    }
    let mut out = Zval::new();
    out.set_hashtable(ht);
    Ok(out)
}

/// `exec()`: run what was queued. A failed command's entry is `false` (its error in
/// `getLastError()`), as in phpredis; a transaction aborted by `watch()` returns `false`.
pub(crate) fn exec<T: HasSession>(obj: &mut ZendClassObject<T>) -> Result<Zval, PhpException> {
    let s = session_of(obj)?;
    match std::mem::replace(&mut s.queue, Queue::Direct) {
        Queue::Direct => Err(usage_error("exec(): not in pipeline or multi mode")),
        Queue::Pipeline(queued) => {
            let (cmds, shapes): (Vec<Cmd>, Vec<Shape>) = queued.into_iter().unzip();
            let results = s.core.pipeline(&cmds);
            let mut out = Vec::with_capacity(results.len());
            for (r, shape) in results.into_iter().zip(&shapes) {
                out.push(match r {
                    Ok(v) => entry(s, v, shape)?,
                    Err(e) => {
                        s.last_error = Some(e.to_string());
                        reply::bool_zval(false)
                    }
                });
            }
            list(out)
        }
        Queue::Multi(tx, _, Some(refused)) => {
            tx.discard();
            s.last_error = Some(format!(
                "EXECABORT Transaction discarded because a queued command was refused: {refused}"
            ));
            Ok(reply::bool_zval(false))
        }
        Queue::Multi(tx, shapes, None) => match tx.exec() {
            Ok(Value::Array(replies)) => {
                let mut out = Vec::with_capacity(replies.len());
                for (v, shape) in replies.into_iter().zip(&shapes) {
                    out.push(entry(s, v, shape)?);
                }
                list(out)
            }
            Ok(_) => Ok(reply::bool_zval(false)),
            Err(e) => Err(s.fail(&e)),
        },
    }
}

fn entry(s: &mut Session, v: Value, shape: &Shape) -> Result<Zval, PhpException> {
    match v {
        Value::Error(msg) => {
            s.last_error = Some(msg);
            Ok(reply::bool_zval(false))
        }
        v => reply::shape(v, shape),
    }
}
