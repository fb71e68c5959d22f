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

/// A running `gatehouse serve` on `data` with a known admin client.
struct Server {
    child: std::process::Child,
    addr: String,
    demo: bool,
}

impl Server {
    fn start(data: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--rate-limit",
                "off",
                "--data-dir",
            ])
            .arg(data)
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
        // Read on a thread for the server's whole life: a closed pipe would fail its later prints.
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut addr, mut demo) = (None, false);
        while addr.is_none() {
            let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                break;
            };
            if let Some(rest) = line.split("at http://").nth(1) {
                addr = Some(rest.trim().to_owned());
            }
            demo |= line.starts_with("Loaded the demo tenant");
        }
        let Some(addr) = addr else {
            let _ = child.kill();
            panic!("serve did not print its address");
        };
        // The demo tenant is announced after the address, when it was loaded.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            demo |= line.starts_with("Loaded the demo tenant");
        }
        Self { child, addr, demo }
    }

    fn http(&self, request: &str) -> String {
        http(&self.addr, request)
    }

    /// An admin token, or the token endpoint's whole reply.
    fn token(&self) -> Result<String, String> {
        let body = "grant_type=client_credentials&client_id=cli-test-admin&client_secret=cli-test-secret-0123456789abcdef";
        let reply = self.http(&format!(
            "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        reply
            .split("\"access_token\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(str::to_owned)
            .ok_or(reply)
    }

    fn get(&self, token: &str, path: &str) -> String {
        self.http(&format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_loads_the_demo_tenant_into_an_empty_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let token = server.token();
    // The demo employee exists, under the id derived from her name: a PAT can be minted for her.
    let alice = gatehouse_store::tenant_data::derived_id("identity", "alice.nguyen");
    let pat = "{\"name\": \"readme\"}";
    let minted = token.as_ref().map(|token| {
        server.http(&format!(
            "POST /gatehouse/v1/identities/{alice}/personal-access-tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{pat}",
            pat.len()
        ))
    });
    // Loading the demo tenant is a task, launched by the server.
    let tasks = token
        .as_ref()
        .map(|token| server.get(token, "/v2024/task-status"));
    assert!(server.demo, "serve did not say it loaded the demo tenant");
    let minted = minted.unwrap_or_else(|reply| panic!("no token in {reply}"));
    assert!(minted.starts_with("HTTP/1.1 200"), "{minted}");
    assert!(minted.contains("\"secret\""), "{minted}");
    let tasks = tasks.unwrap();
    assert!(
        tasks.contains("\"uniqueName\":\"Tenant Import\"")
            && tasks.contains("\"launcher\":\"gatehouse serve\"")
            && tasks.contains("\"description\":\"Import of the demo tenant\""),
        "{tasks}"
    );
}

#[test]
fn imports_are_tasks_and_a_refused_replace_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let good = dir.path().join("people.json");
    std::fs::write(
        &good,
        r#"{"identities": [{"name": "ann"}, {"name": "bob", "manager": "ann"}]}"#,
    )
    .unwrap();
    let out = gatehouse(&["import", "--data-dir", d, good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A bad file with --replace: refused, and the tenant is left as it was (not emptied).
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"identities": [{"name": "cy", "manager": "nobody"}]}"#,
    )
    .unwrap();
    let out = gatehouse(&[
        "import",
        "--data-dir",
        d,
        "--replace",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let kept = text(&gatehouse(&["export", "--data-dir", d]).stdout);
    assert!(
        kept.contains("\"name\":\"ann\"") && kept.contains("\"name\":\"bob\""),
        "a refused --replace emptied the tenant: {kept}"
    );

    let server = Server::start(&data);
    assert!(!server.demo, "the imported tenant is kept, no demo loaded");
    let token = server.token().unwrap_or_else(|r| panic!("no token: {r}"));
    let ok = server.get(
        &token,
        "/v2024/task-status?filters=completionStatus%20eq%20%22SUCCESS%22",
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(
        ok.contains("\"launcher\":\"gatehouse import\"")
            && ok.contains(&format!("\"description\":\"Import of {}\"", good.display()))
            && ok.contains("identities: 2 created, 0 updated, 0 unchanged; 2 written.")
            && ok.contains("\"identityCreated\":2"),
        "{ok}"
    );
    let failed = server.get(
        &token,
        "/task-status/v1?filters=completionStatus%20eq%20%22error%22",
    );
    assert!(failed.starts_with("HTTP/1.1 200"), "{failed}");
    assert!(
        failed.contains("\"launcher\":\"gatehouse import\"")
            && failed.contains("identity 'cy': manager: no identity named 'nobody'")
            && failed.contains("1 problem found; nothing was imported.")
            && failed.contains("\"progress\":\"Failed\""),
        "{failed}"
    );
}

#[test]
fn a_bad_allow_list_entry_or_a_second_network_policy_stops_serve_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    for (args, expect) in [
        (
            vec!["--allow-network", "10.0.0.1/8"],
            "bits set past its prefix",
        ),
        (
            vec!["--allow-network", "10.0.0.0/8,http://desk.example.com"],
            "neither a network",
        ),
        (
            vec!["--allow-network", "fd00::/129"],
            "not a network in CIDR notation",
        ),
        (
            vec!["--allow-network", "10.0.0.0/8", "--allow-private-network"],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["serve", "--data-dir", &data, "--listen", "127.0.0.1:0"];
        all.extend(args.iter());
        let out = gatehouse(&all);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} started");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was written to the data directory"
    );
}

/// A job lease too short to cover a desk call (its timeout plus 5 s) is refused at start-up.
#[test]
fn serve_refuses_a_job_lease_shorter_than_a_desk_call() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = gatehouse(&[
        "serve",
        "--data-dir",
        data,
        "--listen",
        "127.0.0.1:0",
        "--job-lease",
        "30",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("the job lease (30 s) must be at least the desk timeout (30 s) plus 5 s"),
        "{err}"
    );
}
