//! Where Gatehouse may send a request on a tenant's behalf (service-desk URLs, token endpoints).
//!
//! A tenant-supplied URL must never reach the cloud metadata services, link-local or unspecified
//! addresses, multicast or broadcast, whatever the configuration says. Beyond that the operator
//! chooses one of three policies ([`NetPolicy`]):
//! - the default: public addresses only; loopback and private ranges (RFC 1918, unique-local,
//!   carrier-grade NAT) are refused;
//! - [`NetPolicy::allow_private`]: public, loopback and private addresses (a self-hosted desk on
//!   the local network, or the tests' desks on 127.0.0.1);
//! - an allow-list ([`NetPolicy::allow`], `--allow-network`): only the listed networks (CIDRs) and
//!   host names are reachable, public or private; everything else is refused.
//!
//! The rules are checked twice: on the URL when it is saved ([`check_url`]: scheme, literal
//! addresses in any spelling the URL parser accepts, known metadata host names) and on every
//! address a host name resolves to when a connection is made ([`check_resolved`]), so a name that
//! later resolves to a forbidden address is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The operator's choice of reachable ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetPolicy {
    /// Loopback and private ranges may be reached (when [`NetPolicy::allow`] is empty).
    pub allow_private: bool,
    /// When not empty, the only networks and host names that may be reached.
    pub allow: Arc<[Allowed]>,
}

impl NetPolicy {
    /// Public, loopback and private addresses.
    pub fn private_allowed() -> Self {
        Self {
            allow_private: true,
            ..Self::default()
        }
    }

    /// Only what `allow` lists.
    pub fn only(allow: Vec<Allowed>) -> Self {
        Self {
            allow_private: false,
            allow: allow.into(),
        }
    }

    fn listed_network(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|a| match a {
            Allowed::Network(n) => n.contains(ip),
            Allowed::Host(_) => false,
        })
    }

    fn listed_host(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.allow.iter().any(|a| match a {
            Allowed::Host(h) => match h.strip_prefix("*.") {
                Some(domain) => {
                    name.len() > domain.len() + 1
                        && name.ends_with(domain)
                        && name.as_bytes()[name.len() - domain.len() - 1] == b'.'
                }
                None => name == *h,
            },
            Allowed::Network(_) => false,
        })
    }
}

/// One entry of an allow-list: a network in CIDR notation (`10.20.0.0/16`, `fd00::/8`, or a
/// single address) or a host name (`desk.corp.example`, or `*.corp.example` for every name below
/// it, not the name itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// Addresses inside the network.
    Network(Network),
    /// A host name (lower case, without a trailing dot), or `*.` and a domain.
    Host(String),
}

impl std::str::FromStr for Allowed {
    type Err = Refused;

    fn from_str(text: &str) -> Result<Self, Refused> {
        let text = text.trim();
        if text.contains("://") {
            return Err(Refused(format!(
                "'{text}' is a URL, neither a network (10.0.0.0/8) nor a host name \
                 (desk.example.com); list the host name of the URL."
            )));
        }
        if text.contains('/') || text.parse::<IpAddr>().is_ok() {
            return text.parse().map(Allowed::Network);
        }
        let name = text.trim_end_matches('.').to_ascii_lowercase();
        let bare = name.strip_prefix("*.").unwrap_or(&name);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if bare.is_empty() || bare.len() > 253 || !bare.split('.').all(label_ok) {
            return Err(Refused(format!(
                "'{text}' is neither a network (10.0.0.0/8, fd00::/8, 192.0.2.7) nor a host name \
                 (desk.example.com, *.example.com)."
            )));
        }
        Ok(Allowed::Host(name))
    }
}

/// A network: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// Whether `ip` lies inside (an IPv4 address written as IPv6, `::ffff:a.b.c.d`, counts as the
    /// IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        ip.is_ipv4() == self.base.is_ipv4() && first_of(ip, self.prefix) == self.base
    }
}

/// The first address of the network of `prefix` bits that holds `ip`.
fn first_of(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

impl std::str::FromStr for Network {
    type Err = Refused;

    fn from_str(text: &str) -> Result<Self, Refused> {
        let bad = || {
            Refused(format!(
                "'{text}' is not a network in CIDR notation (10.0.0.0/8, fd00::/8) or an address."
            ))
        };
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let base: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                p.parse::<u8>().map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
        };
        if prefix > max {
            return Err(bad());
        }
        let network = Network { base, prefix };
        // The address must be the network's first one, so a typo does not widen the list.
        let first = first_of(base, prefix);
        if first != base {
            return Err(Refused(format!(
                "'{text}' has bits set past its prefix; the network is {first}/{prefix}."
            )));
        }
        Ok(network)
    }
}

/// Why an address or URL is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Host names of metadata services, refused whatever they resolve to.
const METADATA_NAMES: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
];

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_unspecified() || o[0] == 0 {
        Some("an unspecified address")
    } else if ip.is_link_local() {
        Some("a link-local or metadata address")
    } else if o == [100, 100, 100, 200] || o == [192, 0, 0, 192] {
        Some("a metadata address")
    } else if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        Some("a multicast, broadcast or reserved address")
    } else {
        None
    }
}

fn v4_private(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
}

fn v6_embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::a.b.c.d).
    if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0])
        || (s[..6] == [0, 0, 0, 0, 0, 0] && s[6] != 0)
    {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    None
}

/// What makes `ip` unreachable whatever the policy says (metadata, link-local, unspecified,
/// multicast, broadcast, reserved), and whether it is loopback or private. IPv4 addresses written
/// as IPv6 (mapped, NAT64, compatible) are judged as the IPv4 address.
fn classify(ip: IpAddr) -> (Option<String>, bool) {
    match ip {
        IpAddr::V4(v4) => (v4_kind(v4).map(str::to_owned), v4_private(v4)),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6_embedded_v4(v6) {
                let (kind, private) = classify(IpAddr::V4(v4));
                return (
                    kind.map(|inner| format!("an address embedding {v4} ({inner})")),
                    private,
                );
            }
            let s = v6.segments();
            let kind = if v6.is_unspecified() || v6.is_multicast() {
                Some("an unspecified or multicast address")
            } else if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
                Some("a link-local address")
            } else if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
                Some("a metadata address")
            } else {
                None
            };
            let private = v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00;
            (kind.map(str::to_owned), private)
        }
    }
}

fn check_addr(ip: IpAddr, host: Option<&str>, policy: &NetPolicy) -> Result<(), Refused> {
    let refuse = |what: &str| {
        Err(Refused(format!(
            "{ip} is {what}; Gatehouse does not connect there."
        )))
    };
    let (kind, private) = classify(ip);
    if let Some(what) = kind {
        return refuse(&what);
    }
    if !policy.allow.is_empty() {
        if policy.listed_network(ip) || host.is_some_and(|h| policy.listed_host(h)) {
            return Ok(());
        }
        return refuse("outside the networks and hosts this server may call (its allow-list)");
    }
    if private && !policy.allow_private {
        return refuse("a loopback or private address (allow private networks to reach it)");
    }
    Ok(())
}

/// Refuses `ip` unless the policy lets Gatehouse connect to it.
pub fn check_ip(ip: IpAddr, policy: &NetPolicy) -> Result<(), Refused> {
    check_addr(ip, None, policy)
}

/// Refuses `ip`, one of the addresses the host name `host` resolved to, unless the policy lets
/// Gatehouse connect to it: as [`check_ip`], but a host name on the allow-list allows its
/// addresses (apart from those refused whatever the policy says).
pub fn check_resolved(host: &str, ip: IpAddr, policy: &NetPolicy) -> Result<(), Refused> {
    check_addr(ip, Some(host), policy)
}

/// Checks a URL before it is saved: http or https, no user info, a host that is not a metadata
/// name, and (for a literal address, in any spelling) an address [`check_ip`] allows.
pub fn check_url(text: &str, policy: &NetPolicy) -> Result<url::Url, Refused> {
    let u = url::Url::parse(text).map_err(|_| Refused("it is not an absolute URL.".into()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Refused(format!(
            "its scheme '{}' is not http or https.",
            u.scheme()
        )));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Refused(
            "it carries user info; put credentials in their own attributes.".into(),
        ));
    }
    match u.host() {
        None => return Err(Refused("it has no host.".into())),
        Some(url::Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), policy)?,
        Some(url::Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), policy)?,
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if METADATA_NAMES.contains(&name.as_str()) {
                return Err(Refused(format!("'{name}' is a metadata service.")));
            }
            if policy.allow.is_empty() {
                if (name == "localhost" || name.ends_with(".localhost")) && !policy.allow_private {
                    return Err(Refused(
                        "'localhost' is a loopback name (allow private networks to reach it)."
                            .into(),
                    ));
                }
            } else if !policy.listed_host(&name)
                && !policy
                    .allow
                    .iter()
                    .any(|a| matches!(a, Allowed::Network(_)))
            {
                // A list of host names only: a name not on it can never be reached. (With
                // networks listed, the name's addresses are judged when it is resolved.)
                return Err(Refused(format!(
                    "'{name}' is not on the list of hosts this server may call."
                )));
            }
        }
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> NetPolicy {
        NetPolicy::default()
    }

    fn local() -> NetPolicy {
        NetPolicy::private_allowed()
    }

    /// Hostile URLs: refused whatever the policy.
    const ALWAYS_REFUSED: &[&str] = &[
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254.nip.io.@169.254.169.254/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://METADATA.GOOGLE.INTERNAL./",
        "http://100.100.100.200/latest/meta-data/",
        "http://192.0.0.192/latest/",
        "http://0.0.0.0/",
        "http://0/",
        "http://[::]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[::169.254.169.254]/",
        "http://0xa9fea9fe/",
        "http://2852039166/",
        "http://0251.0376.0251.0376/",
        "http://169.254.1.1/",
        "http://[fe80::1]/",
        "http://[fec0::1]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://[ff02::1]/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://desk.example.com/",
        "dict://127.0.0.1:11211/",
        "ldap://127.0.0.1/",
        "http://user:pass@desk.example.com/",
        "javascript:alert(1)",
        "not a url",
        "//desk.example.com/",
    ];

    /// Private or loopback: refused unless private networks are allowed.
    const PRIVATE: &[&str] = &[
        "http://127.0.0.1:8080/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://localhost/",
        "http://api.localhost/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "http://192.168.1.10/",
        "http://100.64.0.1/",
        "http://198.18.0.1/",
        "http://[fd12:3456::1]/",
    ];

    #[test]
    fn hostile_urls_are_refused_whatever_the_policy() {
        for u in ALWAYS_REFUSED {
            assert!(check_url(u, &strict()).is_err(), "strict accepted {u}");
            assert!(check_url(u, &local()).is_err(), "local accepted {u}");
        }
    }

    #[test]
    fn private_ranges_need_the_operator_s_consent() {
        for u in PRIVATE {
            assert!(check_url(u, &strict()).is_err(), "strict accepted {u}");
            assert!(check_url(u, &local()).is_ok(), "local refused {u}");
        }
    }

    #[test]
    fn public_desks_are_fine() {
        for u in [
            "https://acme.service-now.com",
            "https://acme.atlassian.net/rest/api/3/",
            "http://8.8.8.8/",
            "https://[2001:db8::1]/",
            "https://desk.example.com:8443/api",
        ] {
            assert!(check_url(u, &strict()).is_ok(), "refused {u}");
        }
    }

    #[test]
    fn connect_time_checks_every_resolved_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(check_ip(ip("169.254.169.254"), &local()).is_err());
        assert!(check_ip(ip("::ffff:10.0.0.1"), &strict()).is_err());
        assert!(check_ip(ip("::ffff:10.0.0.1"), &local()).is_ok());
        assert!(check_ip(ip("127.0.0.1"), &local()).is_ok());
        assert!(check_ip(ip("93.184.216.34"), &strict()).is_ok());
    }

    fn listed(entries: &[&str]) -> NetPolicy {
        NetPolicy::only(entries.iter().map(|e| e.parse().unwrap()).collect())
    }

    #[test]
    fn with_an_allow_list_only_the_listed_networks_and_hosts_are_reached() {
        let p = listed(&[
            "10.20.0.0/16",
            "192.0.2.7",
            "fd00:1::/32",
            "desk.corp.example",
            "*.svc.example",
        ]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Inside the list, private or public.
        for a in [
            "10.20.0.1",
            "10.20.255.254",
            "192.0.2.7",
            "fd00:1::5",
            "::ffff:10.20.3.4",
        ] {
            assert!(check_ip(ip(a), &p).is_ok(), "refused {a}");
        }
        // Outside it: public, private, loopback, the neighbours of each entry.
        for a in [
            "10.21.0.1",
            "10.19.255.255",
            "192.0.2.6",
            "192.0.2.8",
            "127.0.0.1",
            "::1",
            "8.8.8.8",
            "93.184.216.34",
            "fd00:2::1",
            "2001:db8::1",
            "::ffff:10.21.0.1",
        ] {
            assert!(check_ip(ip(a), &p).is_err(), "accepted {a}");
        }
        // A listed name allows the addresses it resolves to; an unlisted one does not.
        assert!(check_resolved("desk.corp.example", ip("172.16.0.9"), &p).is_ok());
        assert!(check_resolved("DESK.corp.example.", ip("8.8.4.4"), &p).is_ok());
        assert!(check_resolved("a.svc.example", ip("172.16.0.9"), &p).is_ok());
        assert!(check_resolved("a.b.svc.example", ip("172.16.0.9"), &p).is_ok());
        for name in [
            "svc.example",
            "evilsvc.example",
            "desk.corp.example.evil",
            "other.example",
        ] {
            assert!(
                check_resolved(name, ip("172.16.0.9"), &p).is_err(),
                "accepted {name}"
            );
        }
        // Listing never opens what is refused whatever the policy says.
        let wide = listed(&[
            "0.0.0.0/0",
            "::/0",
            "metadata.google.internal",
            "*.internal",
        ]);
        for u in ALWAYS_REFUSED {
            assert!(check_url(u, &wide).is_err(), "accepted {u}");
        }
        assert!(check_resolved("metadata.google.internal", ip("169.254.169.254"), &wide).is_err());
        assert!(check_ip(ip("8.8.8.8"), &wide).is_ok());
    }

    #[test]
    fn saved_urls_are_judged_against_the_allow_list() {
        let p = listed(&["10.20.0.0/16", "desk.corp.example"]);
        for u in [
            "http://10.20.1.1/",
            "https://desk.corp.example/api",
            "https://other.example/",
        ] {
            // Names not listed are judged by their addresses when they are resolved.
            assert!(check_url(u, &p).is_ok(), "refused {u}");
        }
        for u in [
            "http://10.21.1.1/",
            "http://127.0.0.1/",
            "http://8.8.8.8/",
            "http://[::1]/",
        ] {
            assert!(check_url(u, &p).is_err(), "accepted {u}");
        }
        let hosts = listed(&["desk.corp.example", "*.svc.example"]);
        assert!(check_url("https://desk.corp.example/", &hosts).is_ok());
        assert!(check_url("https://x.svc.example/", &hosts).is_ok());
        for u in [
            "https://other.example/",
            "http://localhost/",
            "https://svc.example/",
        ] {
            assert!(check_url(u, &hosts).is_err(), "accepted {u}");
        }
        let loopback = listed(&["127.0.0.0/8"]);
        assert!(check_url("http://localhost:8080/", &loopback).is_ok());
        assert!(check_url("http://127.0.0.1:8080/", &loopback).is_ok());
        assert!(check_url("http://10.0.0.1/", &loopback).is_err());
    }

    #[test]
    fn allow_list_entries_are_parsed_strictly() {
        for good in [
            "10.0.0.0/8",
            "192.0.2.7",
            "192.0.2.7/32",
            "fd00::/8",
            "::1",
            "0.0.0.0/0",
            "desk.example.com",
            "*.example.com",
            "Desk.Example.COM.",
        ] {
            assert!(good.parse::<Allowed>().is_ok(), "refused {good}");
        }
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/08x",
            "",
            "*",
            "*.",
            "a..b",
            "-a.example",
            "a_b.example",
            "http://desk.example.com",
            "desk.example.com:8080",
            "**.example.com",
            "a.*.example",
        ] {
            assert!(bad.parse::<Allowed>().is_err(), "accepted {bad:?}");
        }
        assert_eq!(
            "Desk.Example.COM.".parse::<Allowed>().unwrap(),
            Allowed::Host("desk.example.com".into())
        );
    }
}
