//! A secret rotated without a restart, over a socket, on every example
//! server: the secret comes from `APPROOV_BASE64_SECRET_FILE`; after the
//! file changes and the server gets SIGHUP, a token signed with the new
//! secret is accepted and one signed with the removed secret refused; a
//! broken file changes nothing (and is logged naming the file).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use approov_core::mint::TokenBuilder;
use common::{SERVERS, Server};

const OLD: &str = "b2xkIHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
const NEW: &str = "bmV3IHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";

fn token(secret: &str) -> String {
    TokenBuilder::approov_example()
        .expires_in(300)
        .sign_hs256_base64(secret)
        .unwrap()
}

/// Replaces the file whole, as Kubernetes and systemd do.
fn write(path: &PathBuf, text: &str) {
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
