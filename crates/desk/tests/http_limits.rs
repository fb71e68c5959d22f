//! The guarded outbound client against servers on 127.0.0.1: no redirects are followed, responses
//! over the cap are refused (with and without a length), slow answers time out, and the resolver
//! drops every address the network policy forbids.

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use gatehouse_desk::http::{Call, CallError, DeskConfig, Http};
use gatehouse_domain::net_guard::NetPolicy;
use reqwest::Method;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn client(allow_private: bool) -> Http {
    Http::new(
        NetPolicy {
            allow_private,
            ..NetPolicy::default()
        },
        DeskConfig {
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_millis(800),
            max_response_bytes: 64 * 1024,
            per_link_concurrency: 2,
            ..DeskConfig::default()
        },
    )
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let url = serve(
        Router::new()
            .route(
                "/start",
                get(|| async {
                    (StatusCode::FOUND, [(header::LOCATION, "/target")]).into_response()
                }),
            )
            .route(
                "/target",
                get(move || {
                    h.fetch_add(1, Ordering::SeqCst);
                    async { "reached" }
                }),
            ),
    )
    .await;
    let e = client(true)
        .send(Call::new(Method::GET, format!("{url}/start")))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(302), "{e}");
    assert!(!e.is_transient());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the redirect target was never called"
    );
}

#[tokio::test]
async fn responses_over_the_cap_are_refused() {
    let big = "x".repeat(200 * 1024);
    let b2 = big.clone();
    let url = serve(
        Router::new()
            .route("/sized", get(move || async move { big }))
            .route(
                "/chunked",
                get(move || async move {
                    let chunks: Vec<Result<String, std::io::Error>> = b2
                        .as_bytes()
                        .chunks(1024)
                        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
                        .collect();
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
                }),
            )
            .route("/small", get(|| async { "{}" })),
    )
    .await;
    let http = client(true);
    for path in ["/sized", "/chunked"] {
        let e = http
            .send(Call::new(Method::GET, format!("{url}{path}")))
            .await
            .unwrap_err();
        assert!(matches!(e, CallError::TooLarge(..)), "{path}: {e}");
    }
    let ok = http
        .send(Call::new(Method::GET, format!("{url}/small")))
        .await
        .unwrap();
    assert_eq!(ok.body, b"{}");
}

#[tokio::test]
async fn a_slow_answer_times_out_as_a_transient_fault() {
    let url = serve(Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    ))
    .await;
    let started = std::time::Instant::now();
    let e = client(true)
        .send(Call::new(Method::GET, format!("{url}/slow")))
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Timeout(_)), "{e}");
    assert!(e.is_transient());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn loopback_and_metadata_are_refused_unless_allowed() {
    let url = serve(Router::new().route("/", get(|| async { "{}" }))).await;
    let e = client(false)
        .send(Call::new(Method::GET, format!("{url}/")))
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Refused(_)), "{e}");
    for hostile in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/",
    ] {
        let e = client(true)
            .send(Call::new(Method::GET, hostile.into()))
            .await
            .unwrap_err();
        assert!(matches!(e, CallError::Refused(_)), "{hostile}: {e}");
    }
    assert!(client(true)
        .send(Call::new(Method::GET, format!("{url}/")))
        .await
        .is_ok());
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_a_date() {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::RETRY_AFTER, "120".parse().unwrap());
    assert_eq!(gatehouse_desk::http::retry_after_ms(&h, 0), Some(120_000));
    h.insert(
        reqwest::header::RETRY_AFTER,
        "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
    );
    let at = 784_111_777_000_i64;
    assert_eq!(
        gatehouse_desk::http::retry_after_ms(&h, at - 30_000),
        Some(30_000)
    );
    h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
    assert_eq!(gatehouse_desk::http::retry_after_ms(&h, 0), None);
}

/// SSRF-1 at connect time: URLs in the spellings an attacker would try, all aiming at a listener
/// on 127.0.0.1 (or at metadata and private ranges), are refused by the client of a server that
/// does not allow private networks, whatever was allowed when they were saved; the listener sees
/// no connection. (The same spellings are refused when saved: `gatehouse_domain::net_guard`'s
/// tests.)
/// Hostile URLs, `{p}` standing for the port of a counting listener on 127.0.0.1.
const HOSTILE: &[&str] = &[
    "http://127.0.0.1:{p}/",
    "http://localhost:{p}/",
    "http://LOCALHOST:{p}/",
    "http://localhost.:{p}/",
    "http://api.localhost:{p}/",
    "http://[::1]:{p}/",
    "http://[0:0:0:0:0:0:0:1]:{p}/",
    "http://[::ffff:127.0.0.1]:{p}/",
    "http://[::ffff:7f00:1]:{p}/",
    "http://[::127.0.0.1]:{p}/",
    "http://[64:ff9b::7f00:1]:{p}/",
    "http://2130706433:{p}/",
    "http://0x7f000001:{p}/",
    "http://0x7f.1:{p}/",
    "http://127.1:{p}/",
    "http://0177.0.0.1:{p}/",
    "http://017700000001:{p}/",
    "http://127.000.000.001:{p}/",
    "http://127。0。0。1:{p}/",
    "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:{p}/",
    "http://0.0.0.0:{p}/",
    "http://0:{p}/",
    "http://[::]:{p}/",
    "https://127.0.0.1:{p}/",
    "http://a@127.0.0.1:{p}/",
    "http://user:pass@127.0.0.1:{p}/",
    "gopher://127.0.0.1:{p}/_INFO",
    "ftp://127.0.0.1:{p}/",
    "dict://127.0.0.1:{p}/",
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://169.254.170.2/v2/credentials",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://10.0.0.1:{p}/",
    "http://0x0a000001:{p}/",
    "http://172.16.0.1:{p}/",
    "http://192.168.0.1:{p}/",
    "http://100.64.0.1:{p}/",
    "http://198.18.0.1:{p}/",
    "http://[fd00::1]:{p}/",
    "http://[fe80::1]:{p}/",
    "http://224.0.0.1:{p}/",
];

#[tokio::test]
async fn hostile_urls_are_refused_at_connect_time_and_the_listener_sees_nothing() {
    let (port, hits) = counting_listener().await;
    let urls = HOSTILE;
    assert!(urls.len() >= 40);
    let strict = client(false);
    for u in urls {
        let u = u.replace("{p}", &port.to_string());
        match strict.send(Call::new(Method::GET, u.clone())).await {
            Err(CallError::Refused(_)) => {}
            other => panic!("{u}: {other:?}"),
        }
    }
    // Allowing private networks lets the listener be reached: the refusals above were the
    // policy's, not a dead port's.
    let local = client(true);
    let _ = local
        .send(Call::new(Method::GET, format!("http://127.0.0.1:{port}/")))
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "only the allowed call arrived"
    );
}

/// A listener on 127.0.0.1 that counts the connections it accepts.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, hits)
}

fn listed(entries: &[&str]) -> Http {
    Http::new(
        NetPolicy::only(entries.iter().map(|e| e.parse().unwrap()).collect()),
        DeskConfig {
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_millis(800),
            ..DeskConfig::default()
        },
    )
}

#[tokio::test]
async fn with_an_allow_list_nothing_outside_it_is_reached() {
    let (port, hits) = counting_listener().await;
    let at = |u: &str| u.replace("{p}", &port.to_string());
    // A list that names neither the listener's address nor a name for it: every hostile URL,
    // and the listener by address and by name, are refused before a connection is made.
    let elsewhere = listed(&[
        "10.99.0.0/16",
        "192.0.2.0/24",
        "fd12::/16",
        "desk.example.com",
    ]);
    for u in HOSTILE
        .iter()
        .chain(&["http://127.0.0.1:{p}/", "http://localhost:{p}/"])
    {
        match elsewhere.send(Call::new(Method::GET, at(u))).await {
            Err(CallError::Refused(_)) => {}
            // A name the system cannot resolve (`localhost.`) fails before any address is tried.
            Err(CallError::Connect(_, why)) if why.contains("lookup") => {}
            other => panic!("{u}: {other:?}"),
        }
    }
    // Listing even every address does not open the metadata services.
    let everything = listed(&["0.0.0.0/0", "::/0"]);
    for u in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/",
    ] {
        match everything.send(Call::new(Method::GET, u.into())).await {
            Err(CallError::Refused(_)) => {}
            other => panic!("{u}: {other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing outside the list arrived"
    );

    // The listener's address listed: reached by address and through a name that resolves to it
    // (its other address, ::1, is dropped), but not through an address beside it.
    let by_address = listed(&["127.0.0.1/32"]);
    // The listener closes without answering: a transport error, after connecting.
    let e = by_address
        .send(Call::new(Method::GET, at("http://127.0.0.1:{p}/")))
        .await
        .unwrap_err();
    assert!(!matches!(e, CallError::Refused(_)), "{e}");
    let _ = by_address
        .send(Call::new(Method::GET, at("http://localhost:{p}/")))
        .await;
    for u in ["http://127.0.0.2:{p}/", "http://[::1]:{p}/"] {
        match by_address.send(Call::new(Method::GET, at(u))).await {
            Err(CallError::Refused(_)) => {}
            other => panic!("{u}: {other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "127.0.0.1 by address and by name"
    );

    // A host name listed: reached through the name, not by its address.
    let by_name = listed(&["localhost"]);
    let _ = by_name
        .send(Call::new(Method::GET, at("http://localhost:{p}/")))
        .await;
    match by_name
        .send(Call::new(Method::GET, at("http://127.0.0.1:{p}/")))
        .await
    {
        Err(CallError::Refused(_)) => {}
        other => panic!("by address: {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(hits.load(Ordering::SeqCst), 3, "localhost by name only");
}
