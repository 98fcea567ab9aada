//! Passwords: checks on a few long-lived threads, one per core; hashing;
//! the one-time passwords people are given and the rules for those they choose.
//!
//! Argon2id (password-auth's default) takes 19 MiB and tens of milliseconds
//! per check. On tokio's blocking pool a crowd signing in at the start of the
//! day ran one check per request at once (45 logins: 800 MiB at the peak);
//! here at most one per core runs and the rest wait their turn in the queue,
//! which costs no time (the cores are the limit anyway) and bounds the memory.
//! (The allocator, see main.rs, then gives the buffers back.)

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use app::error::ApiError;
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

// ---- Passwords people are given and choose.
//
// One-time passwords come from an alphabet that reads aloud and types on a
// phone without ambiguity; hashing runs off the async threads (Argon2 takes
// tens of milliseconds).

/// No 0/O, 1/l/I: read out at a desk or over the phone, typed on a small keyboard.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A one-time password such as `k7mq-2pxr-h4tz` (about 59 bits).
pub fn one_time() -> Result<String, ApiError> {
    let mut raw = [0u8; 12];
    getrandom::fill(&mut raw).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a password");
        ApiError::Internal
    })?;
    let chars: Vec<char> = raw
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Why a chosen password will not do, in words a person can act on.
pub fn check_chosen(password: &str, username: &str) -> Result<(), String> {
    const COMMON: &[&str] = &[
        "12345678",
        "123456789",
        "1234567890",
        "11111111",
        "88888888",
        "00000000",
        "password",
        "password1",
        "abc12345",
        "qwertyui",
        "a1234567",
        "gridwalk2026",
        "woaini1314",
    ];
    let chars = password.chars().count();
    if chars < 8 {
        return Err("新密码至少8位".into());
    }
    if password.len() > 128 {
        return Err("新密码不能超过128个字符".into());
    }
    if password.eq_ignore_ascii_case(username) || COMMON.contains(&password.to_lowercase().as_str()) {
        return Err("这个密码太容易被猜到，请换一个".into());
    }
    if password.chars().all(|c| c == password.chars().next().unwrap_or(' ')) {
        return Err("密码不能是同一个字符重复".into());
    }
    Ok(())
}

/// The stored form of a password.
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::Internal
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_grouped_and_unambiguous() {
        let a = one_time().unwrap();
        assert_eq!(a.len(), 14);
        assert_eq!(a.matches('-').count(), 2);
        assert!(a.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_ne!(a, one_time().unwrap());
    }

    #[test]
    fn chosen_passwords_that_are_refused() {
        assert!(check_chosen("short", "li").is_err());
        assert!(check_chosen("12345678", "li").is_err());
        assert!(check_chosen("GRIDWALK2026", "li").is_err());
        assert!(check_chosen("wangfang", "wangfang").is_err());
        assert!(check_chosen("aaaaaaaaaa", "li").is_err());
        assert!(check_chosen("楼道灯坏了三回", "li").is_err());
        assert!(check_chosen("春天的楼道灯坏了", "li").is_ok());
        assert!(check_chosen("k7mq2pxrh4", "li").is_ok());
    }
}
