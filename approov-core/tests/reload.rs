//! Keys that change while the server runs: a secret file (several secrets
//! for a rotation) and a JWKS file, read again by `Verifier::reload_keys`;
//! the swap reaches derived verifiers and the verified-token cache; a file
//! that cannot be read or parsed changes nothing; a settled reload takes a
//! changed file only once two reads agree; only regular files (or
//! symlinks to one) are read, a FIFO never blocks; the environment
//! variables that name the files.
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use approov_core::mint::{SigningKey, TokenBuilder};
use approov_core::{
    Algorithm, ConfigError, KeysReloaded, RejectionKind, TokenBinding, Verifier, VerifierBuilder,
};

const OLD: &str = "b2xkIHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
const NEW: &str = "bmV3IHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
/// 66 bytes in 88 base64 characters; its first 60 and 80 characters are
/// valid secrets of their own, what a reader sees of a half-done write.
const LONG: &str =
    "zTajroQjLH8/Cv9pN2NhQSos6ANjqXNn/v5YZVQ5eIHg7/js6fhooWIgAzbesKCI6GJOak96otF9Uqi+scUtB2Fw";

/// A fresh directory for one test's files, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("approov-reload-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        // Replaced whole, as Kubernetes and systemd do (write, then rename).
        let tmp = self.0.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        path
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

fn kind(verifier: &Verifier, token: &str) -> Option<RejectionKind> {
    verifier.verify(token).err().map(|r| r.kind())
}

#[test]
fn a_secret_rotation_without_restart() {
    let dir = Dir::new("rotation");
    let file = dir.write("secret", &format!("{OLD}\n"));
    for cache in [0, 64] {
        dir.write("secret", &format!("{OLD}\n"));
        let verifier = Verifier::builder()
            .secret_base64_file(&file)
            .cache_verified_tokens(cache)
            .build()
            .unwrap();
        let bound =
            verifier.with_token_binding(Some(TokenBinding::new(["Authorization"]).unwrap()));
        let (old, new) = (token(OLD), token(NEW));
        assert_eq!(kind(&verifier, &old), None);
        assert_eq!(kind(&verifier, &new), Some(RejectionKind::Signature));
        assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Unchanged);

        // Both during the rotation (comments and blank lines are skipped).
        dir.write("secret", &format!("# new first\n{NEW}\n\n{OLD}\n"));
        assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Reloaded);
        assert_eq!(kind(&verifier, &old), None);
        assert_eq!(kind(&verifier, &new), None);

        // The old one removed: refused, even when it was cached.
        dir.write("secret", &format!("{NEW}\n"));
        assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Reloaded);
        assert_eq!(
            kind(&verifier, &old),
            Some(RejectionKind::Signature),
            "cache {cache}"
        );
        assert_eq!(kind(&verifier, &new), None);
        // A verifier derived before the reload sees it too.
        let req = [("Approov-Token", old.as_str()), ("Authorization", "x")];
        assert_eq!(
            bound.verify_request(&req[..]).unwrap_err().kind(),
            RejectionKind::Signature
        );
    }
}

#[test]
fn a_file_that_cannot_be_used_changes_nothing_and_names_the_file() {
    let dir = Dir::new("broken");
    let file = dir.write("secret", OLD);
    let verifier = Verifier::builder()
        .secret_base64_file(&file)
        .build()
        .unwrap();
    let old = token(OLD);
    let broken: [(&str, &str); 4] = [
        ("not base64", "not base64!"),
        ("too short", "c2hvcnQ="),
        ("empty", "\n# only a comment\n"),
        ("another secret line broken", &format!("{NEW}\n%%%\n")),
    ];
    for (what, text) in broken {
        dir.write("secret", text);
        let err = verifier.reload_keys().unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&file.display().to_string()),
            "{what}: {message}"
        );
        assert!(
            !message.contains(NEW) && !message.contains(OLD),
            "{what}: {message}"
        );
        assert_eq!(kind(&verifier, &old), None, "{what}: the old keys stay");
    }
    // A file far larger than any key file is refused without reading it all.
    dir.write("secret", &format!("{NEW}\n{}", "#".repeat(2 * 1024 * 1024)));
    let err = verifier.reload_keys().unwrap_err();
    assert!(err.to_string().contains("longer than"), "{err}");
    assert_eq!(kind(&verifier, &old), None);
    std::fs::remove_file(&file).unwrap();
    assert!(matches!(
        verifier.reload_keys(),
        Err(ConfigError::Io { .. })
    ));
    assert_eq!(kind(&verifier, &old), None);
    // Fixed back: reloaded.
    dir.write("secret", NEW);
    assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Reloaded);
    assert_eq!(kind(&verifier, &old), Some(RejectionKind::Signature));
}

#[test]
fn a_jwks_file_is_reloaded_with_its_kids() {
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let jwks = std::fs::read_to_string(keys.join("jwks.json")).unwrap();
    let p256 = SigningKey::from_pkcs8_pem(
        Algorithm::ES256,
        &std::fs::read_to_string(keys.join("p256.key")).unwrap(),
    )
    .unwrap();
    let es256 = TokenBuilder::approov_example()
        .expires_in(300)
        .kid("p256")
        .sign(&p256);
    // The set without the P-256 key: only the RSA one.
    let mut rsa_only: serde_json::Value = serde_json::from_str(&jwks).unwrap();
    rsa_only["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["kid"] == "rsa");
    let rsa_only = rsa_only.to_string();
    let dir = Dir::new("jwks");
    let file = dir.write("jwks.json", &rsa_only);
    let verifier = Verifier::builder()
        .secret_base64(OLD)
        .jwks_file(&file)
        .build()
        .unwrap();
    assert_ne!(kind(&verifier, &es256), None);
    dir.write("jwks.json", &jwks);
    assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Reloaded);
    assert_eq!(kind(&verifier, &es256), None);
    assert!(verifier.algorithms().any(|a| a == Algorithm::ES256));
    dir.write("jwks.json", "{ not json");
    assert!(verifier.reload_keys().is_err());
    assert_eq!(kind(&verifier, &es256), None, "the last good set stays");
    // Removed at the next good load.
    dir.write("jwks.json", &rsa_only);
    assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Reloaded);
    assert_ne!(kind(&verifier, &es256), None);
    assert_eq!(kind(&verifier, &token(OLD)), None, "values stay");
}

#[test]
fn the_environment_names_the_files() {
    let dir = Dir::new("env");
    let secret = dir.write("secret", OLD);
    let vars = |pairs: Vec<(&'static str, String)>| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    };
    let path = secret.display().to_string();
    let verifier =
        VerifierBuilder::from_vars(vars(vec![("APPROOV_BASE64_SECRET_FILE", path.clone())]))
            .unwrap()
            .build()
            .unwrap();
    assert_eq!(kind(&verifier, &token(OLD)), None);

    let both = VerifierBuilder::from_vars(vars(vec![
        ("APPROOV_BASE64_SECRET", OLD.to_owned()),
        ("APPROOV_BASE64_SECRET_FILE", path),
    ]))
    .unwrap_err();
    assert!(both.to_string().contains("set only one"), "{both}");

    let missing = VerifierBuilder::from_vars(vars(vec![(
        "APPROOV_BASE64_SECRET_FILE",
        dir.0.join("absent").display().to_string(),
    )]))
    .unwrap()
    .build()
    .unwrap_err();
    assert!(missing.to_string().contains("absent"), "{missing}");

    // A JWKS file alone is enough.
    let jwks = dir.write(
        "jwks.json",
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/jwks.json"),
        )
        .unwrap(),
    );
    let verifier = VerifierBuilder::from_vars(vars(vec![(
        "APPROOV_JWKS_FILE",
        jwks.display().to_string(),
    )]))
    .unwrap()
    .build()
    .unwrap();
    assert!(verifier.algorithms().any(|a| a == Algorithm::ES256));
    let none = VerifierBuilder::from_vars(vars(vec![])).unwrap_err();
    assert!(
        none.to_string().contains("APPROOV_BASE64_SECRET_FILE"),
        "{none}"
    );

    // A PEM key file, with its algorithm.
    let pem = dir.write(
        "p256.pem",
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/p256.pub.pem"),
        )
        .unwrap(),
    );
    let verifier = VerifierBuilder::from_vars(vars(vec![
        ("APPROOV_PUBLIC_KEY_FILE", pem.display().to_string()),
        ("APPROOV_PUBLIC_KEY_ALG", "ES256".to_owned()),
    ]))
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(
        verifier.algorithms().collect::<Vec<_>>(),
        [Algorithm::ES256]
    );
    assert_eq!(verifier.key_files().count(), 1);
    for (alg, wanted) in [
        ("HS256", "APPROOV_PUBLIC_KEY_ALG"),
        ("none", "APPROOV_PUBLIC_KEY_ALG"),
    ] {
        let err = VerifierBuilder::from_vars(vars(vec![
            ("APPROOV_PUBLIC_KEY_FILE", pem.display().to_string()),
            ("APPROOV_PUBLIC_KEY_ALG", alg.to_owned()),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains(wanted), "{err}");
    }
    let lone = VerifierBuilder::from_vars(vars(vec![
        ("APPROOV_BASE64_SECRET", OLD.to_owned()),
        ("APPROOV_PUBLIC_KEY_ALG", "ES256".to_owned()),
    ]))
    .unwrap_err();
    assert!(
        lone.to_string().contains("APPROOV_PUBLIC_KEY_FILE"),
        "{lone}"
    );
}

#[test]
fn a_settled_reload_takes_a_changed_file_once_two_reads_agree() {
    let dir = Dir::new("settle");
    let file = dir.write("secret", OLD);
    let verifier = Verifier::builder()
        .secret_base64_file(&file)
        .build()
        .unwrap();
    let settled = || verifier.reload_keys_settled(Duration::ZERO).unwrap();
    let (old, long) = (token(OLD), token(LONG));

    // A writer that writes in place, caught at 60, then 80 of 88 characters.
    for part in [&LONG[..60], &LONG[..80]] {
        std::fs::write(&file, part).unwrap();
        assert_eq!(settled(), KeysReloaded::Settling, "{} chars", part.len());
        assert_eq!(kind(&verifier, &old), None, "the keys in use stay");
        assert_eq!(
            kind(&verifier, &token(part)),
            Some(RejectionKind::Signature)
        );
    }
    std::fs::write(&file, LONG).unwrap();
    assert_eq!(
        settled(),
        KeysReloaded::Settling,
        "changed since the last read"
    );
    assert_eq!(settled(), KeysReloaded::Reloaded, "the same twice");
    assert_eq!(kind(&verifier, &long), None);
    assert_eq!(kind(&verifier, &old), Some(RejectionKind::Signature));
    assert_eq!(settled(), KeysReloaded::Unchanged);

    // Read the same again before the settle time has passed: still waiting.
    let hour = Duration::from_secs(3600);
    dir.write("secret", NEW);
    assert_eq!(
        verifier.reload_keys_settled(hour).unwrap(),
        KeysReloaded::Settling
    );
    assert_eq!(
        verifier.reload_keys_settled(hour).unwrap(),
        KeysReloaded::Settling
    );
    assert_eq!(kind(&verifier, &long), None);
    // Back to the content in use: nothing pending any more, so the next
    // change waits from its own first sight.
    dir.write("secret", LONG);
    assert_eq!(settled(), KeysReloaded::Unchanged);
    dir.write("secret", NEW);
    assert_eq!(settled(), KeysReloaded::Settling);
    // `reload_keys` takes what it reads, at once.
    assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Reloaded);
    assert_eq!(kind(&verifier, &token(NEW)), None);

    // A file that does not parse is an error once it has settled, and the
    // keys in use stay.
    dir.write("secret", "not base64!");
    assert_eq!(settled(), KeysReloaded::Settling);
    let err = verifier.reload_keys_settled(Duration::ZERO).unwrap_err();
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
    assert_eq!(kind(&verifier, &token(NEW)), None);
}

/// `reload` on a thread of its own, bounded: a reload that blocks (in
/// `open()` on a FIFO) fails the test instead of hanging it.
fn bounded<T: Send + 'static>(reload: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(reload());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the read blocked: a key file must never be waited for")
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

#[cfg(unix)]
#[test]
fn only_regular_files_and_symlinks_to_one_are_read() {
    let dir = Dir::new("fifo");
    let fifo = dir.0.join("fifo");
    mkfifo(&fifo);
    let path = fifo.clone();
    let err = bounded(move || {
        Verifier::builder()
            .secret_base64_file(&path)
            .build()
            .unwrap_err()
            .to_string()
    });
    assert!(err.contains("not a regular file"), "{err}");
    assert!(err.contains(&fifo.display().to_string()), "{err}");

    let file = dir.write("secret", OLD);
    let verifier = Verifier::builder()
        .secret_base64_file(&file)
        .build()
        .unwrap();
    let old = token(OLD);
    // Puts `target` (or a symlink to it) where the key file is.
    let put = |target: &Path, symlink: bool| {
        let staged = dir.0.join("staged");
        if symlink {
            std::os::unix::fs::symlink(target, &staged).unwrap();
        } else {
            std::fs::rename(target, &staged).unwrap();
        }
        std::fs::rename(&staged, &file).unwrap();
    };
    let data = dir.0.join("data");
    std::fs::create_dir(&data).unwrap();
    let linked_fifo = dir.0.join("linked-fifo");
    mkfifo(&linked_fifo);
    for (what, target, symlink) in [
        ("a FIFO", &fifo, false),
        ("a symlink to a FIFO", &linked_fifo, true),
        ("a symlink to a directory", &data, true),
    ] {
        put(target, symlink);
        for settle in [None, Some(Duration::ZERO)] {
            let v = verifier.clone();
            let err = bounded(move || match settle {
                None => v.reload_keys(),
                Some(settle) => v.reload_keys_settled(settle),
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains("not a regular file"), "{what}: {err}");
            assert!(err.contains(&file.display().to_string()), "{what}: {err}");
        }
        assert_eq!(kind(&verifier, &old), None, "{what}: the keys in use stay");
    }

    // A symlink to a regular file, as Kubernetes mounts secrets: read.
    std::fs::write(data.join("secret"), NEW).unwrap();
    put(&data.join("secret"), true);
    assert_eq!(verifier.reload_keys().unwrap(), KeysReloaded::Reloaded);
    assert_eq!(kind(&verifier, &token(NEW)), None);
    assert_eq!(kind(&verifier, &old), Some(RejectionKind::Signature));
}
