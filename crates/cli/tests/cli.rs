//! The binary itself: `import`, `export`, and `serve` loading the demo tenant into an empty data
//! directory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn gatehouse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove("GATEHOUSE_NO_DEMO")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/tenant.json")
        .display()
        .to_string()
}

#[test]
fn a_bad_file_changes_nothing_and_names_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"identities\": [\n    {\"name\": \"ann\"},\n    {\"name\": \"bob\", \"manager\": \"nobody\"},\n    {\"name\": \"ann\"}\n  ]\n}\n",
    )
    .unwrap();
    let out = gatehouse(&["import", "--data-dir", data, bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.json:4: identity 'bob': manager: no identity named 'nobody'"),
        "{err}"
    );
    assert!(
        err.contains("bad.json:5: identity 'ann': the same identity is also on line 3"),
        "{err}"
    );
    assert!(
        err.contains("2 problems found; nothing was imported"),
        "{err}"
    );
    // Not even the tenant was created.
    let out = gatehouse(&["export", "--data-dir", data]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no tenant"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn import_reimport_and_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = gatehouse(&["import", "--data-dir", a, &demo()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("created") && summary.contains("identity"),
        "{summary}"
    );
    let out = gatehouse(&["import", "--data-dir", a, &demo()]);
    assert!(
        text(&out.stdout).contains(" 0 written."),
        "{}",
        text(&out.stdout)
    );
    let first = dir.path().join("first.json");
    let out = gatehouse(&["export", "--data-dir", a, "-o", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = gatehouse(&["import", "--data-dir", b, first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = gatehouse(&["export", "--data-dir", b]);
    assert_eq!(text(&out.stdout), std::fs::read_to_string(&first).unwrap());
    // --replace empties the tenant first.
    let small = dir.path().join("small.json");
    std::fs::write(&small, r#"{"identities": [{"name": "solo"}]}"#).unwrap();
    let out = gatehouse(&[
        "import",
        "--data-dir",
        a,
        "--replace",
        small.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let only = text(&gatehouse(&["export", "--data-dir", a]).stdout);
    assert!(
        only.contains("\"name\":\"solo\"") && !only.contains("alice.nguyen"),
        "{only}"
    );
    // CSV out and back in.
    let csv = dir.path().join("people.csv");
    let csv = csv.to_str().unwrap();
    let out = gatehouse(&[
        "export",
        "--data-dir",
        b,
        "--format",
        "csv",
        "--kind",
        "identities",
        "-o",
        csv,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = gatehouse(&["import", "--data-dir", b, csv]);
    assert!(
        text(&out.stdout).contains(" 0 written."),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_loads_the_demo_tenant_into_an_empty_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "off",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env_remove("GATEHOUSE_NO_DEMO")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env("GATEHOUSE_ADMIN_CLIENT_ID", "cli-test-admin")
        .env(
            "GATEHOUSE_ADMIN_CLIENT_SECRET",
            "cli-test-secret-0123456789abcdef",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let (mut addr, mut demo) = (None, false);
    while let Some(Ok(line)) = lines.next() {
        if let Some(rest) = line.split("at http://").nth(1) {
            addr = Some(rest.trim().to_owned());
        }
        demo |= line.starts_with("Loaded the demo tenant");
        if (addr.is_some() && demo) || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    let Some(addr) = addr else {
        let _ = child.kill();
        panic!("serve did not print its address");
    };
    let body = "grant_type=client_credentials&client_id=cli-test-admin&client_secret=cli-test-secret-0123456789abcdef";
    let reply = http(
        &addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let token = reply
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_owned);
    // The demo employee exists, under the id derived from her name: a PAT can be minted for her.
    let alice = gatehouse_store::tenant_data::derived_id("identity", "alice.nguyen");
    let pat = "{\"name\": \"readme\"}";
    let minted = token.as_ref().map(|token| {
        http(
            &addr,
            &format!(
                "POST /gatehouse/v1/identities/{alice}/personal-access-tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{pat}",
                pat.len()
            ),
        )
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(demo, "serve did not say it loaded the demo tenant");
    let minted = minted.unwrap_or_else(|| panic!("no token in {reply}"));
    assert!(minted.starts_with("HTTP/1.1 200"), "{minted}");
    assert!(minted.contains("\"secret\""), "{minted}");
}
