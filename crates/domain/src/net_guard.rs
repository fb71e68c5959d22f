//! Where Gatehouse may send a request on a tenant's behalf (service-desk URLs, token endpoints).
//!
//! A tenant-supplied URL must never reach the cloud metadata services, link-local or unspecified
//! addresses, multicast or broadcast, whatever the configuration says. Loopback and private
//! ranges (RFC 1918, unique-local, carrier-grade NAT) are refused unless the operator allows them
//! ([`NetPolicy::allow_private`]; a self-hosted desk on the local network, or the tests' desks on
//! 127.0.0.1). The rules are checked twice: on the URL when it is saved ([`check_url`]: scheme,
//! literal addresses in any spelling the URL parser accepts, known metadata host names) and on
//! every address a host name resolves to when a connection is made ([`check_ip`]), so a name that
//! later resolves to a forbidden address is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The operator's choice of reachable ranges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetPolicy {
    /// Loopback and private ranges may be reached.
    pub allow_private: bool,
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

/// Refuses `ip` unless the policy lets Gatehouse connect to it.
pub fn check_ip(ip: IpAddr, policy: NetPolicy) -> Result<(), Refused> {
    let refuse = |what: &str| {
        Err(Refused(format!(
            "{ip} is {what}; Gatehouse does not connect there."
        )))
    };
    match ip {
        IpAddr::V4(v4) => {
            if let Some(what) = v4_kind(v4) {
                return refuse(what);
            }
            if v4_private(v4) && !policy.allow_private {
                return refuse(
                    "a loopback or private address (allow private networks to reach it)",
                );
            }
            Ok(())
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6_embedded_v4(v6) {
                return check_ip(IpAddr::V4(v4), policy).map_err(|_| {
                    Refused(format!(
                        "{ip} embeds {v4}, which Gatehouse does not connect to."
                    ))
                });
            }
            let s = v6.segments();
            if v6.is_unspecified() || v6.is_multicast() {
                return refuse("an unspecified or multicast address");
            }
            if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
                return refuse("a link-local address");
            }
            if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
                return refuse("a metadata address");
            }
            let private = v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00;
            if private && !policy.allow_private {
                return refuse(
                    "a loopback or private address (allow private networks to reach it)",
                );
            }
            Ok(())
        }
    }
}

/// Checks a URL before it is saved: http or https, no user info, a host that is not a metadata
/// name, and (for a literal address, in any spelling) an address [`check_ip`] allows.
pub fn check_url(text: &str, policy: NetPolicy) -> Result<url::Url, Refused> {
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
            if (name == "localhost" || name.ends_with(".localhost")) && !policy.allow_private {
                return Err(Refused(
                    "'localhost' is a loopback name (allow private networks to reach it).".into(),
                ));
            }
        }
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: NetPolicy = NetPolicy {
        allow_private: false,
    };
    const LOCAL: NetPolicy = NetPolicy {
        allow_private: true,
    };

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
            assert!(check_url(u, STRICT).is_err(), "strict accepted {u}");
            assert!(check_url(u, LOCAL).is_err(), "local accepted {u}");
        }
    }

    #[test]
    fn private_ranges_need_the_operator_s_consent() {
        for u in PRIVATE {
            assert!(check_url(u, STRICT).is_err(), "strict accepted {u}");
            assert!(check_url(u, LOCAL).is_ok(), "local refused {u}");
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
            assert!(check_url(u, STRICT).is_ok(), "refused {u}");
        }
    }

    #[test]
    fn connect_time_checks_every_resolved_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(check_ip(ip("169.254.169.254"), LOCAL).is_err());
        assert!(check_ip(ip("::ffff:10.0.0.1"), STRICT).is_err());
        assert!(check_ip(ip("::ffff:10.0.0.1"), LOCAL).is_ok());
        assert!(check_ip(ip("127.0.0.1"), LOCAL).is_ok());
        assert!(check_ip(ip("93.184.216.34"), STRICT).is_ok());
    }
}
