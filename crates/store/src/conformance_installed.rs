//! Conformance checks of the installed-integration columns (ADR 0008).

use super::{client, integration, service_desk_catalog};
use crate::installed_integrations::{self as installed, Inbound, InboundAuth, Installed};
use crate::{oauth_clients, service_desk, Store};
use gatehouse_domain::service_desk::mapping::MapAttribute;

fn mapping(name: &str, field: &str) -> MapAttribute {
    serde_json::from_value(serde_json::json!({
        "name": name, "thirdPartyAttrName": field, "entityType": "SERVICEREQUEST",
        "attrValues": [{"attrValue": "Closed", "thirdPartyAttrValue": "Done"}]
    }))
    .unwrap()
}

/// Installed parts round-trip beside the SDIM columns, a SDIM update leaves them alone, and a
/// delete takes the issued OAuth client with it.
pub(super) async fn installed_integration_round_trip(store: &Store) {
    service_desk_catalog(store).await;
    let (a, b) = (
        integration("a", "Desk", &["s1"]),
        integration("b", "Other", &[]),
    );
    let parts = Installed {
        inbound: Inbound {
            auth: InboundAuth::Webhook {
                token_hash: installed::token_hash("tok"),
            },
            map_attributes: vec![mapping("Status", "state")],
        },
        outbound_map_attributes: vec![mapping("Priority", "fields.priority")],
        notifier_type: Some("REST_API".into()),
    };
    let oauth = Installed {
        inbound: Inbound {
            auth: InboundAuth::OAuth2 {
                client_id: "oc".into(),
            },
            map_attributes: Vec::new(),
        },
        ..Installed::default()
    };
    let (x, y, p, o) = (a.clone(), b.clone(), parts.clone(), oauth.clone());
    store
        .write(move |c| {
            service_desk::insert(c, &x)?;
            service_desk::insert(c, &y)?;
            oauth_clients::insert(c, &client("oc", None))?;
            assert!(installed::put(c, "t1", "a", &p)?);
            assert!(installed::put(c, "t1", "b", &o)?);
            assert!(!installed::put(c, "t2", "a", &p)?);
            Ok(())
        })
        .await
        .unwrap();
    let (got, inbound, outbound, none, other_tenant) = store
        .read(|c| {
            Ok((
                service_desk::get(c, "t1", "a")?.unwrap(),
                installed::inbound(c, "t1", "a")?.unwrap(),
                installed::outbound_mappings(c, "t1", "a")?,
                installed::inbound(c, "t1", "ghost")?,
                installed::inbound(c, "t2", "a")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(got.installed, parts);
    assert_eq!(inbound, parts.inbound);
    assert_eq!(outbound, parts.outbound_map_attributes);
    assert_eq!((none, other_tenant), (None, None));
    let InboundAuth::Webhook { token_hash } = &inbound.auth else {
        panic!("a webhook")
    };
    assert!(installed::webhook_token_matches(token_hash, "tok"));
    assert!(!installed::webhook_token_matches(token_hash, "tok2"));

    // An SDIM update keeps the installed parts; the list reads them in its one query.
    let mut renamed = got.clone();
    renamed.name = "Renamed".into();
    let listed = store
        .write(move |c| {
            service_desk::update(c, &renamed)?;
            service_desk::list(c, "t1", None, " order by i.id", 0, 10)
        })
        .await
        .unwrap();
    assert_eq!(listed[0].installed, parts);
    assert_eq!(listed[1].installed, oauth);
    let fresh = store
        .write(|c| {
            service_desk::insert(c, &integration("c", "Third", &[]))?;
            service_desk::get(c, "t1", "c")
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.installed, Installed::default());

    // Deleting the integration deletes its OAuth client; deleting a client first leaves no
    // inbound credential.
    let gone = store
        .write(|c| {
            assert!(service_desk::delete(c, "t1", "b")?);
            oauth_clients::get(c, "t1", "oc")
        })
        .await
        .unwrap();
    assert_eq!(gone, None);
    let auth = store
        .write(|c| {
            oauth_clients::insert(c, &client("oc2", None))?;
            installed::put(
                c,
                "t1",
                "c",
                &Installed {
                    inbound: Inbound {
                        auth: InboundAuth::OAuth2 {
                            client_id: "oc2".into(),
                        },
                        map_attributes: Vec::new(),
                    },
                    ..Installed::default()
                },
            )?;
            oauth_clients::delete(c, "t1", "oc2")?;
            Ok(installed::inbound(c, "t1", "c")?.unwrap().auth)
        })
        .await
        .unwrap();
    assert_eq!(auth, InboundAuth::None);
}
