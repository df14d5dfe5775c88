//! Work a run needs but the network does not wait for, run on a thread of its own at the lowest
//! CPU priority (nice 19): `sdk-trust`'s survey of the device's runtimes (directories, links,
//! bundles: 2-3 ms of CPU) and the OS trust store's first read (the bundle's 147 certificates).
//! Both used to run on tokio's blocking pool beside the handshakes, and on a device with one or
//! two cores they took the CPU from the run's one runtime thread and, on loopback, from the
//! servers. At the lowest priority they run while the runtime waits for the network and give
//! way when it has work; their results are there when the checks ask. Measured on loopback
//! against mosquitto, Qpid Proton and nginx (2 vCPUs, 100 interleaved rounds): the full check
//! 9.22 ms on the pool, 8.85 ms with the survey at nice 19, 8.50 ms with both.
//!
//! The thread is none of tokio's blocking pool: a pool thread is reused for later blocking work
//! (the chain's verdict, which the report waits for), and a thread that lowered its own
//! priority cannot raise it again without privileges. Nothing waits on these threads at exit.

use std::io;

use tokio::sync::oneshot;

/// `work` started at once on a new low-priority thread; the future gives its result, or an
/// error when the thread could not be started or `work` panicked (the caller then does the
/// work itself, as for a blocking-pool task the runtime could not run). Dropping the future
/// does not stop the work.
pub fn run_at_low_priority<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = io::Result<T>> {
    let (sender, receiver) = oneshot::channel();
    let started = std::thread::Builder::new()
        .name("edgeprobe-background".to_owned())
        .spawn(move || {
            lower_this_threads_priority();
            // The receiver may be gone (the run ended first): the result is then not needed.
            drop(sender.send(work()));
        });
    async move {
        started?;
        receiver
            .await
            .map_err(|_| io::Error::other("the low-priority thread ended without a result"))
    }
}

/// Nice 19 for the calling thread only: on Linux `setpriority(PRIO_PROCESS, tid)` applies to
/// that thread, not its process. Failing (a seccomp filter, say) only leaves it as it was.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    let _unchanged_on_failure =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), LOWEST_PRIORITY);
}

/// The nice value of the background thread: the lowest priority.
#[cfg(target_os = "linux")]
const LOWEST_PRIORITY: i32 = 19;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_work_runs_on_another_thread_at_nice_19_and_the_caller_keeps_its_priority() {
        let caller = std::thread::current().id();
        let before = rustix::process::getpriority_process(None).unwrap();
        let (thread, nice) = run_at_low_priority(|| {
            (
                std::thread::current().id(),
                rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap(),
            )
        })
        .await
        .unwrap();
        assert_ne!(thread, caller);
        assert_eq!(nice, LOWEST_PRIORITY);
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), before);
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_for_the_caller() {
        let result = run_at_low_priority(|| -> u8 { panic!("deliberate") }).await;
        assert!(result.is_err());
    }
}
