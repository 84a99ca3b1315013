//! ClientIP ranges, parsed as Traefik's `ip.Checker` parses them (Go's `net.ParseIP`, then
//! `net.ParseCIDR`) and compared as Go's `net.IP.Equal` / `IPNet.Contains` compare: an
//! IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it maps.

use std::net::{IpAddr, Ipv6Addr};

/// One allowed address or network, normalised so that matching is a mask and a compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net {
    V4 { addr: u32, mask: u32 },
    V6 { addr: u128, mask: u128 },
}

impl Net {
    /// Parses `10.0.0.1`, `::1`, `10.0.0.0/8` or `fd00::/8`. None when Go would reject it.
    pub(crate) fn parse(text: &str) -> Option<Net> {
        // Go's parsers reject zones (`fe80::1%eth0`); so does std. Leading zeros in IPv4
        // (`010.0.0.1`) are rejected by both too.
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(Net::from_ip(ip, None));
        }
        let (addr, bits) = text.split_once('/')?;
        let ip = addr.parse::<IpAddr>().ok()?;
        // Go's dtoi: decimal digits only, any number of leading zeros.
        if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let significant = bits.trim_start_matches('0');
        if significant.len() > 3 {
            return None;
        }
        let bits: u32 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if bits > max {
            return None;
        }
        Some(Net::from_ip(ip, Some(bits)))
    }

    fn from_ip(ip: IpAddr, bits: Option<u32>) -> Net {
        match ip {
            IpAddr::V4(v4) => {
                let mask = prefix_mask_32(bits.unwrap_or(32));
                Net::V4 { addr: u32::from(v4) & mask, mask }
            }
            IpAddr::V6(v6) => {
                let mask = prefix_mask_128(bits.unwrap_or(128));
                let addr = u128::from(v6) & mask;
                // Go masks first, then treats a network whose masked address is IPv4-mapped as an
                // IPv4 network using the last 32 bits of the mask.
                match Ipv6Addr::from(addr).to_ipv4_mapped() {
                    Some(v4) => {
                        let mask = u32::try_from(mask & 0xffff_ffff).unwrap_or(u32::MAX);
                        Net::V4 { addr: u32::from(v4) & mask, mask }
                    }
                    None => Net::V6 { addr, mask },
                }
            }
        }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self, normalise(ip)) {
            (Net::V4 { addr, mask }, IpAddr::V4(v4)) => u32::from(v4) & mask == *addr,
            (Net::V6 { addr, mask }, IpAddr::V6(v6)) => u128::from(v6) & mask == *addr,
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address is its IPv4 address, as in Go.
fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_mask_32(bits: u32) -> u32 {
    if bits == 0 { 0 } else { u32::MAX << (32 - bits) }
}

fn prefix_mask_128(bits: u32) -> u128 {
    if bits == 0 { 0 } else { u128::MAX << (128 - bits) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn single_addresses() {
        let n = Net::parse("127.0.0.1").unwrap();
        assert!(n.contains(ip("127.0.0.1")));
        assert!(n.contains(ip("::ffff:127.0.0.1")));
        assert!(!n.contains(ip("127.0.0.2")));
        let n = Net::parse("::ffff:10.0.0.1").unwrap();
        assert!(n.contains(ip("10.0.0.1")));
        let n = Net::parse("2001:db8::1").unwrap();
        assert!(n.contains(ip("2001:db8::1")));
        assert!(!n.contains(ip("2001:db8::2")));
        assert!(!n.contains(ip("1.2.3.4")));
    }

    #[test]
    fn networks() {
        let n = Net::parse("192.168.1.0/24").unwrap();
        assert!(n.contains(ip("192.168.1.200")));
        assert!(n.contains(ip("::ffff:192.168.1.1")));
        assert!(!n.contains(ip("192.168.2.1")));
        // Host bits in the network address are masked away, as in Go.
        assert!(Net::parse("192.168.1.77/24").unwrap().contains(ip("192.168.1.1")));
        assert!(Net::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(!Net::parse("0.0.0.0/0").unwrap().contains(ip("::1")));
        assert!(Net::parse("::/0").unwrap().contains(ip("::1")));
        assert!(!Net::parse("::/0").unwrap().contains(ip("8.8.8.8")));
        let n = Net::parse("fd00::/8").unwrap();
        assert!(n.contains(ip("fd12::1")));
        assert!(!n.contains(ip("fe80::1")));
        // An IPv4-mapped network is an IPv4 network.
        let n = Net::parse("::ffff:10.0.0.0/104").unwrap();
        assert!(n.contains(ip("10.1.2.3")));
        assert!(!n.contains(ip("11.0.0.1")));
        assert!(Net::parse("10.0.0.0/008").unwrap().contains(ip("10.9.9.9")));
        assert!(Net::parse("10.0.0.0/0000000000008").unwrap().contains(ip("10.9.9.9")));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "1",
            "",
            "1.2.3",
            "01.2.3.4",
            "fe80::1%eth0",
            "1.2.3.4/33",
            "::1/129",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "1.2.3.4/a",
            "/8",
            "1.2.3.4/8/8",
            "[::1]",
            " 1.2.3.4",
        ] {
            assert_eq!(Net::parse(bad), None, "{bad}");
        }
    }
}
