//! Notifications reach people by SMTP: a test relay on 127.0.0.1 speaks the protocol and keeps
//! what it was sent.

use crate::access_requests::{approvals, new_ids, submit, world};
use crate::support::TestApp;
use axum::http::StatusCode;
use gatehouse_api::notifications::Mailer;
use gatehouse_store::access_requests::engine::{self, Actor};
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the relay received: (recipients, message data) per message.
type Received = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP relay: accepts every message and records (recipients, data).
struct Relay {
    port: u16,
    got: Received,
}

async fn relay() -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Received = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
                let mut rcpt = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 relay.test\r\n"
                    } else if upper.starts_with("MAIL FROM") {
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO") {
                        rcpt.push(line[8..].trim().to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        store
                            .lock()
                            .unwrap()
                            .push((std::mem::take(&mut rcpt), data));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    Relay { port, got }
}

#[tokio::test]
async fn a_forwarded_work_item_is_mailed_to_its_new_owner_once() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/identities",
            Some(
                json!({"name": "erin", "email": "erin@example.com", "displayName": "Erin Example"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let erin = r.body["id"].as_str().unwrap().to_owned();
    let r = submit(
        &app,
        &w.alice.1,
        json!({"requestedFor": [w.alice.0], "requestedItems": [{"type": "ACCESS_PROFILE", "id": w.ap}]}),
    )
    .await;
    let id = new_ids(&r.body).remove(0);
    app.drain().await;
    let step = approvals(&app, &id).await.remove(0);
    let (t, now, bob) = (
        app.tenant_id().await,
        app.state.clock().now(),
        w.bob.0.clone(),
    );
    let (s, e) = (step.id.clone(), erin.clone());
    app.state
        .store()
        .write(move |c| {
            let actor = Actor {
                identity_id: bob,
                is_admin: false,
            };
            engine::forward(c, &t, &s, &actor, &e, "please cover", true, now)
        })
        .await
        .unwrap()
        .unwrap();

    let store = app.state.store().clone();
    let clock = app.state.clock().clone();
    // No relay listening yet: nothing is marked sent.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    let down = Mailer::new(
        &format!("smtp://127.0.0.1:{dead}"),
        "Gatehouse <gh@example.com>",
    )
    .unwrap();
    assert!(down.deliver_pending(&store, &clock).await.is_err());
    let unsent = "select count(*) from notification where sent is null";
    let count = |sql: &'static str| {
        let store = store.clone();
        async move {
            store
                .read(move |c| c.query_one(sql, &[])?.int(0))
                .await
                .unwrap()
        }
    };
    assert_eq!(count(unsent).await, 1);

    let relay = relay().await;
    let mailer = Mailer::new(
        &format!("smtp://127.0.0.1:{}", relay.port),
        "Gatehouse <gh@example.com>",
    )
    .unwrap();
    assert_eq!(mailer.deliver_pending(&store, &clock).await.unwrap(), 1);
    assert_eq!(mailer.deliver_pending(&store, &clock).await.unwrap(), 0);
    assert_eq!(count(unsent).await, 0);
    let got = relay.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].0[0].contains("erin@example.com"), "{:?}", got[0].0);
    assert!(
        got[0]
            .1
            .contains("Subject: An approval was forwarded to you"),
        "{}",
        got[0].1
    );
    assert!(got[0].1.contains("please cover"), "{}", got[0].1);
    assert!(Mailer::new("http://relay", "a@b.c").is_err());
}
