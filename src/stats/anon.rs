//! Client addresses: anonymisation and a fixed-size byte form for keys and hashes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Keep the network, drop the host: IPv4 to its /24, IPv6 to its /48 (the conventions of
/// Google Analytics' and Matomo's IP anonymisation), so a report shows which networks visit
/// without naming a household.
pub fn anonymize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return anonymize(IpAddr::V4(v4));
            }
            let mut o = v6.octets();
            o[6..].fill(0);
            IpAddr::V6(Ipv6Addr::from(o))
        }
    }
}

/// 16 bytes for any address (IPv4 mapped into IPv6), the input of the visitor hash.
pub(crate) fn to_bytes(ip: Option<IpAddr>) -> [u8; 16] {
    match ip {
        Some(IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
        Some(IpAddr::V6(v6)) => v6.octets(),
        None => [0; 16],
    }
}

/// Key bytes for the hosts panel: 4 bytes for IPv4, 16 for IPv6, so keys stay short.
pub(crate) fn key_bytes(ip: IpAddr, out: &mut [u8; 16]) -> usize {
    match ip {
        IpAddr::V4(v4) => {
            out[..4].copy_from_slice(&v4.octets());
            4
        }
        IpAddr::V6(v6) => {
            out.copy_from_slice(&v6.octets());
            16
        }
    }
}

/// The address back from [`key_bytes`]; `None` for any other length.
pub(crate) fn from_key_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            Some(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymize_keeps_network_only() {
        let v4: IpAddr = "203.0.113.77".parse().expect("literal");
        assert_eq!(anonymize(v4).to_string(), "203.0.113.0");
        let v6: IpAddr = "2001:db8:abcd:12:1:2:3:4".parse().expect("literal");
        assert_eq!(anonymize(v6).to_string(), "2001:db8:abcd::");
        let mapped: IpAddr = "::ffff:198.51.100.9".parse().expect("literal");
        assert_eq!(anonymize(mapped).to_string(), "198.51.100.0");
    }

    #[test]
    fn key_bytes_round_trip() {
        for s in ["10.1.2.3", "2001:db8::1"] {
            let ip: IpAddr = s.parse().expect("literal");
            let mut b = [0u8; 16];
            let n = key_bytes(ip, &mut b);
            assert_eq!(from_key_bytes(&b[..n]), Some(ip));
        }
    }
}
