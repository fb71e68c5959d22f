//! Fuzz target: the outbound URL and address guard (`gatehouse_domain::net_guard`).
//!
//! Arbitrary text goes through `check_url` under the three kinds of policy (strict, private
//! networks allowed, an allow-list), and the first bytes are also read as an IPv4 or IPv6 address
//! for `check_ip`. Invariants (an independent statement of the rules):
//! - whatever the policy, an accepted URL is http(s) without user info, its host is not a
//!   metadata name, and a literal address in it is not unspecified, link-local, metadata,
//!   multicast, broadcast or reserved (also when embedded in IPv6);
//! - with private networks disallowed, an accepted URL's literal address is not loopback, RFC 1918,
//!   carrier-grade NAT, benchmarking or unique-local, and its host is not `localhost`;
//! - what the strict policy accepts, the permissive one accepts too;
//! - an accepted URL's serialisation is accepted again (the check is stable);
//! - under the allow-list (10.20.0.0/16, 8.8.8.0/24, fd00:1::/32, desk.corp.example), an accepted
//!   address is inside a listed network (IPv4 also as `::ffff:a.b.c.d`) and not refused whatever
//!   the policy; an accepted host name is not a metadata name;
//! - `check_url("http://<ip>/")` and `check_ip(ip)` agree.

#![no_main]

use gatehouse_domain::net_guard::{check_ip, check_url, NetPolicy};
use std::sync::OnceLock;
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn strict() -> &'static NetPolicy {
    static POLICY: OnceLock<NetPolicy> = OnceLock::new();
    POLICY.get_or_init(NetPolicy::default)
}

fn local() -> &'static NetPolicy {
    static POLICY: OnceLock<NetPolicy> = OnceLock::new();
    POLICY.get_or_init(NetPolicy::private_allowed)
}

fn listed() -> &'static NetPolicy {
    static POLICY: OnceLock<NetPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        NetPolicy::only(
            ["10.20.0.0/16", "8.8.8.0/24", "fd00:1::/32", "desk.corp.example"]
                .iter()
                .map(|e| e.parse().unwrap())
                .collect(),
        )
    })
}

/// Inside one of `listed()`'s networks.
fn in_list(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (o[0] == 10 && o[1] == 20) || (o[0] == 8 && o[1] == 8 && o[2] == 8)
        }
        IpAddr::V6(v6) => v6.segments()[..2] == [0xfd00, 1],
    }
}

/// Refused whatever the policy.
fn v4_never(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 0
        || o[0] >= 224
        || (o[0] == 169 && o[1] == 254)
        || o == [100, 100, 100, 200]
        || o == [192, 0, 0, 192]
}

/// Refused unless private networks are allowed.
fn v4_private(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 127
        || o[0] == 10
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
}

/// The IPv4 address an IPv6 address stands for: mapped, compatible or NAT64 (64:ff9b::/96).
fn v6_as_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return Some(tail);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && s[6] != 0 {
        return Some(tail);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail);
    }
    None
}

fn v6_never(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || s[0] >> 8 == 0xff
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]
        || v6_as_v4(ip).is_some_and(v4_never)
}

fn v6_private(ip: Ipv6Addr) -> bool {
    ip.is_loopback()
        || (ip.segments()[0] & 0xfe00) == 0xfc00
        || v6_as_v4(ip).is_some_and(v4_private)
}

fn ip_allowed_by_rules(ip: IpAddr, policy: &NetPolicy) -> bool {
    if !policy.allow.is_empty() {
        let never = match ip {
            IpAddr::V4(v4) => v4_never(v4),
            IpAddr::V6(v6) => v6_never(v6),
        };
        return !never && in_list(ip);
    }
    match ip {
        IpAddr::V4(v4) => !v4_never(v4) && (policy.allow_private || !v4_private(v4)),
        IpAddr::V6(v6) => !v6_never(v6) && (policy.allow_private || !v6_private(v6)),
    }
}

const METADATA: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
];

fn check_accepted(text: &str, u: &url::Url, policy: &NetPolicy) {
    assert!(matches!(u.scheme(), "http" | "https"), "{text:?}");
    assert!(
        u.username().is_empty() && u.password().is_none(),
        "{text:?}"
    );
    match u.host() {
        None => panic!("accepted a URL without host: {text:?}"),
        Some(url::Host::Ipv4(ip)) => {
            assert!(
                ip_allowed_by_rules(IpAddr::V4(ip), policy),
                "{text:?} -> {ip} under {policy:?}"
            )
        }
        Some(url::Host::Ipv6(ip)) => {
            assert!(
                ip_allowed_by_rules(IpAddr::V6(ip), policy),
                "{text:?} -> {ip} under {policy:?}"
            )
        }
        Some(url::Host::Domain(d)) => {
            let name = d.trim_end_matches('.').to_ascii_lowercase();
            assert!(!METADATA.contains(&name.as_str()), "{text:?}");
            if !policy.allow_private && policy.allow.is_empty() {
                assert!(
                    name != "localhost" && !name.ends_with(".localhost"),
                    "{text:?}"
                );
            }
        }
    }
    // Stable: the URL as it will be stored is accepted again, as the same URL.
    let again = check_url(u.as_str(), policy).unwrap_or_else(|e| {
        panic!(
            "{text:?} accepted, its serialisation {:?} refused: {e}",
            u.as_str()
        )
    });
    assert_eq!(again.as_str(), u.as_str());
}

fn check_address(ip: IpAddr) {
    for policy in [strict(), local(), listed()] {
        let by_ip = check_ip(ip, policy).is_ok();
        assert_eq!(
            by_ip,
            ip_allowed_by_rules(ip, policy),
            "check_ip({ip}, {policy:?})"
        );
        let literal = match ip {
            IpAddr::V4(v4) => format!("http://{v4}/"),
            IpAddr::V6(v6) => format!("http://[{v6}]/"),
        };
        assert_eq!(
            check_url(&literal, policy).is_ok(),
            by_ip,
            "{literal} under {policy:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let mut b = [0u8; 16];
        b.copy_from_slice(&data[..16]);
        check_address(IpAddr::V6(Ipv6Addr::from(b)));
    }
    if data.len() >= 4 {
        check_address(IpAddr::V4(Ipv4Addr::new(
            data[0], data[1], data[2], data[3],
        )));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let by_strict = check_url(text, strict());
    let by_local = check_url(text, local());
    if let Ok(u) = &by_strict {
        check_accepted(text, u, strict());
        assert!(by_local.is_ok(), "{text:?}: strict accepts, local refuses");
    }
    if let Ok(u) = &by_local {
        check_accepted(text, u, local());
    }
    if let Ok(u) = check_url(text, listed()) {
        check_accepted(text, &u, listed());
    }
    if let Err(e) = &by_strict {
        assert!(!e.0.is_empty());
    }
});
