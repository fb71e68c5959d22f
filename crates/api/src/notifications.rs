//! Delivery of notifications (a forwarded work item, a reminder, an escalation) by SMTP.
//!
//! The engine records every notification as a row in the same transaction as the change that
//! causes it. When an SMTP relay is configured, [`Mailer::deliver_pending`] sends the rows not yet
//! sent to people who have an e-mail address and marks each sent once the relay accepted it, so a
//! crash between the two sends a message at most twice and never loses one. Without a relay the
//! rows stay as the record of what would have been sent.

use gatehouse_domain::{Clock, Timestamp};
use gatehouse_store::{Store, StoreError};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// Notifications sent per round.
const BATCH: i64 = 100;

/// A notification waiting to be sent.
#[derive(Clone, Debug)]
struct Pending {
    id: String,
    email: String,
    name: String,
    subject: String,
    body: String,
}

/// An SMTP relay and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A relay at `url` (`smtp://host:port`, plain SMTP to a relay on a trusted network; user and
    /// password in the URL are used for AUTH) sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "the SMTP URL must look like smtp://[user:password@]host[:port], not '{}'",
                redact(url)
            )
        };
        let rest = url.strip_prefix("smtp://").ok_or_else(bad)?;
        let rest = rest.trim_end_matches('/');
        let (auth, host_port) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (host_port, 25),
        };
        if host.is_empty() {
            return Err(bad());
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(10)));
        if let Some(a) = auth {
            let (user, password) = a.split_once(':').ok_or_else(bad)?;
            builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
        }
        let transport = builder.build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("the sender address '{from}' is not valid: {e}"))?;
        Ok(Self { transport, from })
    }

    /// Sends the notifications not yet sent (oldest first, up to a batch) and marks each one sent
    /// after the relay accepted it. Returns how many were sent; stops at the first relay failure
    /// (the rest wait for the next round).
    pub async fn deliver_pending(
        &self,
        store: &Store,
        clock: &Arc<dyn Clock>,
    ) -> Result<usize, String> {
        let pending = store
            .read(|c| {
                c.query(
                    &format!(
                        "select n.id, i.email, coalesce(i.display_name, i.name), n.subject, n.body \
                         from notification n join identity i on i.id = n.recipient_id \
                         where n.sent is null and i.email is not null and i.email <> '' \
                         order by n.created, n.id limit {BATCH}"
                    ),
                    &[],
                )?
                .iter()
                .map(|r| {
                    Ok(Pending {
                        id: r.text(0)?,
                        email: r.text(1)?,
                        name: r.text(2)?,
                        subject: r.text(3)?,
                        body: r.text(4)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
            })
            .await
            .map_err(|e| e.to_string())?;
        let mut sent = 0;
        for p in pending {
            let to = match format!("{} <{}>", p.name.replace(['<', '>', '"'], ""), p.email)
                .parse::<Mailbox>()
            {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(notification = %p.id, "notification {} not sent: bad address: {e}", p.id);
                    mark_sent(store, &p.id, clock.now()).await?;
                    continue;
                }
            };
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(p.subject.clone())
                .body(text_of(&p.body))
                .map_err(|e| e.to_string())?;
            self.transport
                .send(message)
                .await
                .map_err(|e| format!("the SMTP relay refused notification {}: {e}", p.id))?;
            mark_sent(store, &p.id, clock.now()).await?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Delivers until `shutdown` resolves: a round every `every`.
    pub async fn run_until(
        self,
        store: Store,
        clock: Arc<dyn Clock>,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) {
        tokio::pin!(shutdown);
        loop {
            match self.deliver_pending(&store, &clock).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!("notification delivery: {e}"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

async fn mark_sent(store: &Store, id: &str, now: Timestamp) -> Result<(), String> {
    let id = id.to_owned();
    store
        .write(move |c| {
            c.execute(
                "update notification set sent = $2 where id = $1 and sent is null",
                &[id.into(), now.into()],
            )
        })
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The plain-text body of a notification (its stored JSON body, as readable lines).
fn text_of(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => body.to_owned(),
    }
}
