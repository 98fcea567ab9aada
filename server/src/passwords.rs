//! Password checks on a few long-lived threads, one per core.
//!
//! Argon2id (password-auth's default) takes 19 MiB and tens of milliseconds
//! per check. On tokio's blocking pool a crowd signing in at the start of the
//! day ran one check per request at once (45 logins: 800 MiB at the peak);
//! here at most one per core runs and the rest wait their turn in the queue,
//! which costs no time (the cores are the limit anyway) and bounds the memory.
//! (The allocator, see main.rs, then gives the buffers back.)

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

struct Check {
    password: String,
    hash: String,
    answer: oneshot::Sender<bool>,
}

fn checkers() -> &'static Sender<Check> {
    static CHECKS: OnceLock<Sender<Check>> = OnceLock::new();
    CHECKS.get_or_init(|| {
        let (send, receive) = channel::<Check>();
        let receive = Arc::new(Mutex::new(receive));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for n in 0..threads {
            let receive = receive.clone();
            if let Err(e) = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || check_forever(&receive))
            {
                tracing::error!(error = %e, "could not start a password-checking thread");
            }
        }
        send
    })
}

fn check_forever(checks: &Mutex<Receiver<Check>>) {
    loop {
        // One thread waits on the queue while the others wait for the lock.
        let next = match checks.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(check) = next else { return };
        let matches = password_auth::verify_password(&check.password, &check.hash).is_ok();
        // The caller may have gone (the client hung up): nothing to tell.
        let _ = check.answer.send(matches);
    }
}

/// Whether `password` matches `hash`; `None` when no checking thread runs.
pub async fn verify(password: String, hash: String) -> Option<bool> {
    let (answer, matches) = oneshot::channel();
    checkers().send(Check { password, hash, answer }).ok()?;
    matches.await.ok()
}
