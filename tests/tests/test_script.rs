//! `scripts/test.sh`, README's test command: on a machine where a service
//! approov-proxy's tests run is missing and nothing can install it, it
//! stops at once, before building anything, naming the package.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn a_missing_service_that_cannot_be_installed_stops_the_script_naming_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // A PATH with only what the script needs before its check: no
    // redis-server, no apt-get, no sudo, and no cargo, so running on past
    // the check would fail differently.
    let bin = std::env::temp_dir().join(format!("approov-test-sh-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["bash", "id", "dirname"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|dir| Path::new(dir).join(tool))
            .find(|path| path.is_file())
            .unwrap_or_else(|| panic!("{tool} is not in /usr/bin or /bin"));
        let link = bin.join(tool);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(found, link).unwrap();
    }
    let out = Command::new(bin.join("bash"))
        .arg(root.join("scripts/test.sh"))
        .env_clear()
        .env("PATH", &bin)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&bin);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("install the Debian package(s) redis-server"),
        "{stderr}"
    );
    assert!(!stdout.contains("running the tests"), "{stdout}");
    assert!(!stderr.contains("command not found"), "{stderr}");
}
