//! A secret rotated without a restart, over a socket, on every example
//! server: the secret comes from `APPROOV_BASE64_SECRET_FILE`; after the
//! file changes and the server gets SIGHUP, a token signed with the new
//! secret is accepted and one signed with the removed secret refused; a
//! broken file changes nothing (and is logged naming the file).
//!
//! And a secret file that is not a plain, finished file, on axum-hello
//! (reloads on SIGHUP only):
//! - replaced by a FIFO, a reload fails at once (logged, naming the file)
//!   and keeps the keys in use, and the next reload still happens: the
//!   reload thread never blocks in `open()`. A symlink to a regular file
//!   (how Kubernetes mounts secrets) is taken.
//! - written in place, half-way, it is not taken at once: the server
//!   waits until the file reads the same across its settle time, so a
//!   writer that finishes within it never has its half file in use.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use approov_core::mint::TokenBuilder;
use common::{SERVERS, Server};

const OLD: &str = "b2xkIHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
const NEW: &str = "bmV3IHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
/// 66 bytes in 88 base64 characters; its first 60 characters are a valid
/// 45-byte secret of their own, what a reader sees of a half-done write.
const LONG: &str =
    "zTajroQjLH8/Cv9pN2NhQSos6ANjqXNn/v5YZVQ5eIHg7/js6fhooWIgAzbesKCI6GJOak96otF9Uqi+scUtB2Fw";

/// A fresh directory, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("approov-key-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn token(secret: &str) -> String {
    TokenBuilder::approov_example()
        .expires_in(300)
        .sign_hs256_base64(secret)
        .unwrap()
}

/// Replaces the file whole (write, then rename), as Kubernetes and systemd
/// do and the docs advise.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn hangup(server: &Server) {
    let status = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn status(server: &Server, token: &str) -> u16 {
    server.get("/", &[("Approov-Token", token)]).status
}

#[test]
fn a_rotated_secret_file_takes_effect_on_sighup() {
    let dir = std::env::temp_dir().join(format!("approov-key-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, exe) in SERVERS.into_iter().enumerate() {
        let file = dir.join(format!("secret-{i}"));
        write(&file, OLD);
        let path = file.display().to_string();
        let server = Server::start(
            exe,
            &[
                ("APPROOV_BASE64_SECRET_FILE", path.as_str()),
                // Only SIGHUP reloads here, so the test knows when.
                ("KEY_RELOAD_SECONDS", "3600"),
            ],
        );
        let (old, new) = (token(OLD), token(NEW));
        assert_eq!(status(&server, &old), 200, "{exe}");
        assert_eq!(status(&server, &new), 401, "{exe}");

        // The rotation: both secrets, then the old one removed.
        write(&file, &format!("{NEW}\n{OLD}\n"));
        hangup(&server);
        server.stderr_until(|line| line.contains("Approov keys reloaded"));
        assert_eq!(
            (status(&server, &old), status(&server, &new)),
            (200, 200),
            "{exe}"
        );
        write(&file, NEW);
        hangup(&server);
        server.stderr_until(|line| line.contains("Approov keys reloaded"));
        assert_eq!(
            (status(&server, &old), status(&server, &new)),
            (401, 200),
            "{exe}"
        );

        // A broken file changes nothing; the log names the file, not the secret.
        write(&file, "not base64!");
        hangup(&server);
        let lines = server.stderr_until(|line| line.contains("not reloaded"));
        let last = lines.last().unwrap();
        assert!(last.contains(&path), "{exe}: {last}");
        assert!(!last.contains(NEW), "{exe}: {last}");
        assert_eq!(
            (status(&server, &old), status(&server, &new)),
            (401, 200),
            "{exe}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_changed_secret_file_is_picked_up_without_a_signal() {
    let dir = std::env::temp_dir().join(format!("approov-key-poll-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secret");
    write(&file, OLD);
    let path = file.display().to_string();
    let server = Server::start(
        SERVERS[0],
        &[
            ("APPROOV_BASE64_SECRET_FILE", path.as_str()),
            ("KEY_RELOAD_SECONDS", "1"),
        ],
    );
    assert_eq!(status(&server, &token(NEW)), 401);
    write(&file, NEW);
    // The next check (within a second) reloads it; the wait is bounded.
    server.stderr_until(|line| line.contains("Approov keys reloaded"));
    assert_eq!(status(&server, &token(NEW)), 200);
    assert_eq!(status(&server, &token(OLD)), 401);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn public_keys_alone_make_no_development_secret() {
    // A server given only public keys must not invent an HS256 secret (the
    // development mode for "no secret set"): an HS256 token is refused for
    // its algorithm, not for its signature.
    let jwks = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../approov-core/tests/keys/jwks.json"
    );
    for exe in SERVERS {
        let server = Server::start(exe, &[("APPROOV_JWKS_FILE", jwks)]);
        assert_eq!(status(&server, &token(OLD)), 401, "{exe}");
        common::assert_logged(&server, "algorithm");
    }
}

fn start(file: &Path) -> Server {
    Server::start(
        SERVERS[0],
        &[
            ("APPROOV_BASE64_SECRET_FILE", file.to_str().unwrap()),
            // Only SIGHUP reloads here, so the test knows when.
            ("KEY_RELOAD_SECONDS", "3600"),
        ],
    )
}

#[test]
fn a_fifo_in_place_of_the_secret_file_fails_the_reload_without_blocking_it() {
    let dir = Dir::new("fifo");
    let file = dir.0.join("secret");
    write(&file, OLD);
    let server = start(&file);
    let (old, new) = (token(OLD), token(NEW));
    assert_eq!(status(&server, &old), 200);

    std::fs::remove_file(&file).unwrap();
    let made = Command::new("mkfifo").arg(&file).status().unwrap();
    assert!(made.success());
    hangup(&server);
    let lines = server.stderr_until(|line| line.contains("not reloaded"));
    let last = lines.last().unwrap();
    assert!(last.contains(file.to_str().unwrap()), "{last}");
    assert!(last.contains("not a regular file"), "{last}");
    assert_eq!(status(&server, &old), 200, "the keys in use stay");

    // The reload thread is free: the next reload takes the new secret,
    // from a symlink to a regular file as Kubernetes mounts it.
    let data = dir.0.join("data");
    std::fs::create_dir(&data).unwrap();
    write(&data.join("secret"), NEW);
    let link = dir.0.join("secret.link");
    std::os::unix::fs::symlink(data.join("secret"), &link).unwrap();
    std::fs::rename(&link, &file).unwrap();
    hangup(&server);
    server.stderr_until(|line| line.contains("Approov keys reloaded"));
    assert_eq!((status(&server, &old), status(&server, &new)), (401, 200));
}

#[test]
fn a_half_written_secret_file_is_not_taken_at_once() {
    let dir = Dir::new("partial");
    let file = dir.0.join("secret");
    write(&file, OLD);
    let server = start(&file);
    let (old, long, half) = (token(OLD), token(LONG), token(&LONG[..60]));
    assert_eq!(status(&server, &old), 200);

    // A writer that writes in place, and has written 60 of 88 characters.
    std::fs::write(&file, &LONG[..60]).unwrap();
    hangup(&server);
    let lines = server
        .stderr_until(|line| line.contains("Approov keys reloaded") || line.contains("taken once"));
    let last = lines.last().unwrap();
    assert!(
        last.contains("taken once"),
        "the half-written file was taken at once: {last}"
    );
    assert!(!last.contains(LONG), "{last}");

    // The writer finishes well within the settle time.
    let mut rest = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    rest.write_all(&LONG.as_bytes()[60..]).unwrap();
    drop(rest);
    // Read again on this signal too, so that even a writer slower than the
    // settle time (a loaded machine) ends with the whole secret in use.
    hangup(&server);
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(&server, &long) != 200 {
        assert!(
            Instant::now() < deadline,
            "the whole secret was never taken"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!((status(&server, &old), status(&server, &half)), (401, 401));
}
