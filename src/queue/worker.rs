//! The delivery worker of one directory in this process: a scheduler thread
//! that leases due messages from the database, and a few delivery threads
//! that attempt them and record the outcome, through the queue's
//! [`Store`]. Everything a thread needs to resume lives in the store, so
//! the threads may be stopped at any instant
//! (the process ends, the host kills it) without losing a message.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::attempt::deliver;
use super::backend::Store;
use super::embedded::Embedded;
use super::schedule;
use super::status::MessageStatus;
use super::store::Claimed;
use super::QueueError;

/// Delivery threads per directory: attempts in flight at once.
pub const CONCURRENCY: usize = 8;

/// How often an idle scheduler looks for work that other processes
/// enqueued or that became due (its own process wakes it at once).
pub const POLL_INTERVAL: Duration = Duration::from_millis(300);

/// How often `wait_idle` looks at the database when nothing in this
/// process signals progress (another process may be delivering).
const IDLE_POLL: Duration = Duration::from_millis(100);

/// How often the scheduler deletes the final messages whose retention has
/// passed.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// While deliveries go on, how often erased requests are checkpointed out
/// of the WAL; an idle worker does it at once.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Longest pause after repeated database failures.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Bytes of a response body kept with its attempt.
pub const EXCERPT_BYTES: usize = 1024;

/// Longest wait for that excerpt once the status has arrived.
pub const EXCERPT_WAIT: Duration = Duration::from_secs(2);

/// Called with the final status of each message this process delivered or
/// failed.
pub type Listener = Arc<dyn Fn(&MessageStatus) + Send + Sync>;

/// Work handed from the scheduler to the delivery threads.
#[derive(Default)]
struct Work {
    queue: VecDeque<Claimed>,
    /// Claimed and not yet recorded: queued plus being attempted.
    in_flight: usize,
    /// Set by whoever wants the scheduler to look now (enqueue, a freed
    /// slot), so a wake-up sent while it is busy is not lost.
    wake: bool,
}

/// State shared by every `Queue` handle of one directory and its threads.
pub(crate) struct Shared {
    pub dir: PathBuf,
    /// This worker's name in leases and attempts: process id and a random tag.
    pub owner: String,
    /// The rows: every read and write of this queue goes through here.
    pub store: Box<dyn Store>,
    work: Mutex<Work>,
    work_ready: Condvar,
    scheduler_wake: Condvar,
    /// Bumped after every recorded outcome; `wait_idle` sleeps on it.
    progress: Mutex<u64>,
    progress_changed: Condvar,
    listeners: Mutex<Vec<(u64, Listener)>>,
    next_listener: AtomicU64,
    /// Delivery threads actually started.
    slots: Mutex<usize>,
    /// Replaces each message's own lease length in this worker's claims
    /// (tests that kill a worker and must not wait long for its leases).
    pub lease_override: Option<Duration>,
    /// Requests were erased or rows deleted since the last complete
    /// checkpoint: their old bytes may still sit in WAL frames.
    erased: AtomicBool,
    stop: AtomicBool,
}

/// A poisoned lock only means another thread panicked while holding it; the
/// data (queues, counters, a connection) is still usable.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) fn backoff(failures: u32) -> Duration {
    Duration::from_millis(100)
        .saturating_mul(1u32 << failures.min(8))
        .min(MAX_BACKOFF)
}

impl Shared {
    /// Opens the database of `dir` (already created and canonical), makes
    /// its tables ready and starts the threads.
    pub fn start(
        dir: PathBuf,
        lease_override: Option<Duration>,
    ) -> Result<Arc<Shared>, QueueError> {
        let store = Box::new(Embedded::open(&dir)?);
        Shared::with_store(dir, store, lease_override)
    }

    /// Starts the threads of a queue whose rows live in `store`; `dir`
    /// names it in warnings (the directory, or the database URL without
    /// its password).
    pub fn with_store(
        dir: PathBuf,
        store: Box<dyn Store>,
        lease_override: Option<Duration>,
    ) -> Result<Arc<Shared>, QueueError> {
        let shared = Arc::new(Shared {
            dir,
            owner: format!("{}-{:08x}", std::process::id(), random_u32()),
            store,
            work: Mutex::new(Work::default()),
            work_ready: Condvar::new(),
            scheduler_wake: Condvar::new(),
            progress: Mutex::new(0),
            progress_changed: Condvar::new(),
            listeners: Mutex::new(Vec::new()),
            next_listener: AtomicU64::new(1),
            slots: Mutex::new(0),
            lease_override,
            erased: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });

        // Delivery threads first: a scheduler without them would lease
        // messages nobody attempts.
        let (running, started_threads) = std::sync::mpsc::channel::<()>();
        let mut started = 0;
        let mut last_error = None;
        for n in 1..=CONCURRENCY {
            let (me, running) = (Arc::clone(&shared), running.clone());
            match std::thread::Builder::new()
                .name(format!("webhook1c-delivery-{n}"))
                .spawn(move || {
                    let _ = running.send(());
                    run_delivery(&me)
                }) {
                Ok(_) => started += 1,
                Err(e) => {
                    log::warn!("delivery thread {n} did not start: {e}");
                    last_error = Some(e);
                }
            }
        }
        *lock(&shared.slots) = started;
        let scheduler = if started == 0 {
            Err(last_error.unwrap_or_else(|| std::io::Error::other("no delivery thread")))
        } else {
            let me = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("webhook1c-scheduler".into())
                .spawn(move || {
                    let _ = running.send(());
                    run_scheduler(&me)
                })
        };
        if let Err(e) = scheduler {
            shared.stop();
            return Err(QueueError::Thread(e));
        }
        wait_until_running(&started_threads, started + 1);
        Ok(shared)
    }

    /// False once the store this worker opened was replaced under it.
    pub fn is_current(&self) -> bool {
        self.store.is_current()
    }

    /// Transactions this worker's writes have committed (enqueued messages,
    /// claims and outcomes share them).
    pub fn commits(&self) -> u64 {
        self.store.commits()
    }

    /// Something was erased: the scheduler checkpoints it out of the WAL.
    pub fn note_erased(&self) {
        self.erased.store(true, Ordering::SeqCst);
    }

    /// Makes the scheduler look for due messages now.
    pub fn wake_scheduler(&self) {
        lock(&self.work).wake = true;
        self.scheduler_wake.notify_one();
    }

    /// True once nothing of the directory is pending, false when `timeout`
    /// passes first.
    pub fn wait_idle(&self, timeout: Duration) -> Result<bool, QueueError> {
        let start = Instant::now();
        loop {
            let seen = *lock(&self.progress);
            if !self.store.any_pending()? {
                return Ok(true);
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Ok(false);
            }
            let step = (timeout - elapsed).min(IDLE_POLL);
            let guard = lock(&self.progress);
            if *guard == seen {
                // Only the wake-up matters; a poisoned wait still waited.
                let _ = self.progress_changed.wait_timeout(guard, step);
            }
        }
    }

    /// Registers `listener`; returns its key for [`Shared::unsubscribe`].
    pub fn subscribe(&self, listener: Listener) -> u64 {
        let key = self.next_listener.fetch_add(1, Ordering::Relaxed);
        lock(&self.listeners).push((key, listener));
        key
    }

    pub fn unsubscribe(&self, key: u64) {
        lock(&self.listeners).retain(|(k, _)| *k != key);
    }

    /// Ends the threads after their current attempt. Messages they had
    /// leased stay leased until the lease runs out, as after a crash.
    pub fn stop(&self) {
        {
            // Set under the lock the threads wait with, so none misses it.
            let _work = lock(&self.work);
            self.stop.store(true, Ordering::SeqCst);
        }
        self.work_ready.notify_all();
        self.scheduler_wake.notify_all();
    }

    /// True while claimed messages wait for a free delivery thread.
    pub(super) fn claimed_waiting(&self) -> bool {
        !lock(&self.work).queue.is_empty()
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn bump_progress(&self) {
        *lock(&self.progress) += 1;
        self.progress_changed.notify_all();
    }

    pub(super) fn notify(&self, status: &MessageStatus) {
        // Call outside the lock: a listener may subscribe or unsubscribe.
        let listeners: Vec<Listener> = lock(&self.listeners)
            .iter()
            .map(|(_, l)| Arc::clone(l))
            .collect();
        for listener in listeners {
            // A listener's panic must not take the delivery thread with it.
            if catch_unwind(AssertUnwindSafe(|| listener(status))).is_err() {
                log::warn!("a delivery listener panicked on message {}", status.id);
            }
        }
    }
}

fn random_u32() -> u32 {
    (schedule::random_unit() * f64::from(u32::MAX)) as u32
}

/// Longest wait for the threads [`Shared::start`] spawned to begin running.
const THREAD_START_LIMIT: Duration = Duration::from_secs(5);

/// Returns once `count` threads have reported on `running` (or after
/// [`THREAD_START_LIMIT`]), so that the 1C call that opened the queue never
/// returns while one of our threads is still being created. The host
/// process may exit right after that call. A started thread is ended
/// cleanly by the exit on every platform, but under 32-bit Wine a process
/// that exits while one of its threads is still in its start-up (Wine's
/// init_thread round trip) dies with SIGSEGV; a 1C worker process that
/// crashes on exit writes a crash dump.
fn wait_until_running(running: &std::sync::mpsc::Receiver<()>, count: usize) {
    let deadline = Instant::now() + THREAD_START_LIMIT;
    for _ in 0..count {
        let left = deadline.saturating_duration_since(Instant::now());
        if running.recv_timeout(left).is_err() {
            log::warn!("the queue's threads took more than {THREAD_START_LIMIT:?} to start");
            return;
        }
    }
}

/// Leases due messages whenever a delivery thread is free, then sleeps until
/// woken (enqueue, a freed slot) or until the poll interval passes. Claims
/// go through the group commit, so a claim made while delivery threads
/// record their outcomes shares their transaction.
fn run_scheduler(shared: &Shared) {
    let slots = *lock(&shared.slots);
    let mut failures = 0u32;
    let mut upkeep = Upkeep::new();
    while !shared.stopping() {
        let free = slots.saturating_sub(lock(&shared.work).in_flight);
        let mut pause = POLL_INTERVAL;
        if free > 0 {
            let claimed = shared
                .store
                .claim(&shared.owner, free, shared.lease_override);
            match claimed {
                Ok(batch) => {
                    failures = 0;
                    if !batch.is_empty() {
                        let mut work = lock(&shared.work);
                        work.in_flight += batch.len();
                        work.queue.extend(batch);
                        drop(work);
                        shared.work_ready.notify_all();
                    }
                }
                Err(e) => {
                    failures += 1;
                    pause = backoff(failures);
                    log::warn!(
                        "queue {}: cannot claim messages ({e}); trying again in {pause:?}",
                        shared.dir.display()
                    );
                }
            }
        }
        upkeep.run(shared);
        let mut work = lock(&shared.work);
        if !work.wake && !shared.stopping() {
            work = match shared.scheduler_wake.wait_timeout(work, pause) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        work.wake = false;
    }
}

/// The scheduler's housekeeping: retention and erasure.
struct Upkeep {
    last_purge: Option<Instant>,
    last_checkpoint: Instant,
}

impl Upkeep {
    fn new() -> Upkeep {
        Upkeep {
            last_purge: None,
            last_checkpoint: Instant::now(),
        }
    }

    /// Deletes expired final messages (at start, then every
    /// [`PURGE_INTERVAL`]) and, after any erasure, truncates the WAL so the
    /// erased bytes leave every file: at once when no delivery is in
    /// flight, at most every [`CHECKPOINT_INTERVAL`] while they go on.
    fn run(&mut self, shared: &Shared) {
        if self
            .last_purge
            .is_none_or(|at| at.elapsed() >= PURGE_INTERVAL)
        {
            self.last_purge = Some(Instant::now());
            match shared.store.purge() {
                Ok(true) => shared.note_erased(),
                Ok(false) => {}
                Err(e) => log::warn!(
                    "queue {}: cannot delete expired messages ({e})",
                    shared.dir.display()
                ),
            }
        }
        let idle = lock(&shared.work).in_flight == 0;
        if shared.erased.load(Ordering::SeqCst)
            && (idle || self.last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL)
        {
            self.last_checkpoint = Instant::now();
            shared.erased.store(false, Ordering::SeqCst);
            let done = shared.store.flush_erased();
            if !matches!(done, Ok(true)) {
                // A reader still uses old frames (or the file is busy):
                // the next round tries again.
                shared.erased.store(true, Ordering::SeqCst);
                if let Err(e) = done {
                    log::warn!("queue {}: checkpoint failed ({e})", shared.dir.display());
                }
            }
        }
    }
}

/// Takes claimed messages one at a time and attempts them. A thread that
/// records an outcome while no claimed message waits for it leases the next
/// due message in the same transaction, so a busy queue costs one commit per
/// message (shared with the other threads' commits) and no round trip
/// through the scheduler.
fn run_delivery(shared: &Shared) {
    let mut next: Option<Claimed> = None;
    loop {
        if shared.stopping() {
            // A message leased with the last outcome stays leased until
            // its lease runs out, as after a crash.
            return;
        }
        let claimed = match next.take() {
            Some(claimed) => claimed,
            None => {
                let mut work = lock(&shared.work);
                loop {
                    if shared.stopping() {
                        return;
                    }
                    if let Some(claimed) = work.queue.pop_front() {
                        break claimed;
                    }
                    work = match shared.work_ready.wait(work) {
                        Ok(guard) => guard,
                        Err(poisoned) => poisoned.into_inner(),
                    };
                }
            }
        };
        let id = claimed.id.clone();
        match catch_unwind(AssertUnwindSafe(|| deliver(shared, claimed))) {
            Ok(following) => next = following,
            Err(_) => {
                // A bug, not a delivery outcome: the lease runs out and the
                // message is attempted again, so nothing is lost.
                log::error!("delivery of message {id} panicked; it stays pending");
            }
        }
        if next.is_none() {
            lock(&shared.work).in_flight -= 1;
            shared.wake_scheduler();
        }
        shared.bump_progress();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap() {
        assert_eq!(backoff(0), Duration::from_millis(100));
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
