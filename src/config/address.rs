//! Entry point addresses as Traefik writes them: `":80"`, `"127.0.0.1:8080"`, `"[::]:80"`, with an
//! optional `/tcp` suffix. Parsed once at load time into a `SocketAddr` for the proxy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Where an entry point listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddress {
    /// The address to bind. For an empty host (`":80"`) this is `[::]:port`: bind it with
    /// `IPV6_V6ONLY` off to take IPv4 too, as Go does, and fall back to `0.0.0.0:port` where
    /// the host has no IPv6.
    pub socket: SocketAddr,
    /// The host part was empty: every interface, IPv4 and IPv6.
    pub all_interfaces: bool,
}

impl ListenAddress {
    /// The IPv4 fallback for an all-interfaces address, when IPv6 is unavailable.
    pub fn ipv4_fallback(&self) -> Option<SocketAddr> {
        self.all_interfaces
            .then(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), self.socket.port()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidAddress {
    #[error("an address is required (e.g. `:80` or `127.0.0.1:8080`)")]
    Empty,
    #[error("`{0}` has no port (expected e.g. `:80`, `127.0.0.1:8080` or `[::]:80`)")]
    NoPort(Box<str>),
    #[error("`{0}`: the port must be a number from 0 to 65535")]
    BadPort(Box<str>),
    #[error(
        "`{0}`: the host must be an IP address, `localhost`, or empty for every interface \
         (tollgate does not resolve names)"
    )]
    BadHost(Box<str>),
    #[error("`{0}`: only TCP entry points are supported (`/tcp` or no suffix)")]
    Protocol(Box<str>),
}

/// Parses an entry point address.
pub fn parse_address(text: &str) -> Result<ListenAddress, InvalidAddress> {
    let own = || Box::<str>::from(text);
    if text.trim().is_empty() {
        return Err(InvalidAddress::Empty);
    }
    let hostport = match text.rsplit_once('/') {
        Some((hostport, proto)) if proto.eq_ignore_ascii_case("tcp") => hostport,
        Some(_) => return Err(InvalidAddress::Protocol(own())),
        None => text,
    };
    let (host, port) = hostport.rsplit_once(':').ok_or_else(|| InvalidAddress::NoPort(own()))?;
    if port.is_empty() {
        return Err(InvalidAddress::NoPort(own()));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidAddress::BadPort(own()));
    }
    let port: u16 = port.parse().map_err(|_| InvalidAddress::BadPort(own()))?;
    let (ip, all_interfaces) = if host.is_empty() {
        (IpAddr::V6(Ipv6Addr::UNSPECIFIED), true)
    } else if host.eq_ignore_ascii_case("localhost") {
        (IpAddr::V4(Ipv4Addr::LOCALHOST), false)
    } else if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner.parse().map_err(|_| InvalidAddress::BadHost(own()))?;
        (IpAddr::V6(ip), false)
    } else {
        let ip: Ipv4Addr = host.parse().map_err(|_| InvalidAddress::BadHost(own()))?;
        (IpAddr::V4(ip), false)
    };
    Ok(ListenAddress { socket: SocketAddr::new(ip, port), all_interfaces })
}

/// An IP address or a CIDR range (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`), as trustedIPs
/// takes them. Returns a description of the problem.
pub(crate) fn check_ip_or_cidr(text: &str) -> Result<(), String> {
    let text = text.trim();
    let (ip, bits) = match text.split_once('/') {
        Some((ip, bits)) => (ip, Some(bits)),
        None => (text, None),
    };
    let ip: IpAddr =
        ip.parse().map_err(|_| format!("`{text}` is not an IP address or CIDR range"))?;
    if let Some(bits) = bits {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match bits.parse::<u8>() {
            Ok(n) if bits.bytes().all(|b| b.is_ascii_digit()) && n <= max => {}
            _ => {
                return Err(format!(
                    "`{text}`: the prefix length must be a number from 0 to {max}"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (String, bool) {
        match parse_address(text) {
            Ok(a) => (a.socket.to_string(), a.all_interfaces),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> String {
        parse_address(text).map(|a| a.socket.to_string()).expect_err(text).to_string()
    }

    #[test]
    fn traefik_address_forms() {
        assert_eq!(ok(":80"), ("[::]:80".into(), true));
        assert_eq!(ok("127.0.0.1:8080"), ("127.0.0.1:8080".into(), false));
        assert_eq!(ok("[::]:80"), ("[::]:80".into(), false));
        assert_eq!(ok("[::1]:0"), ("[::1]:0".into(), false));
        assert_eq!(ok("0.0.0.0:443/tcp"), ("0.0.0.0:443".into(), false));
        assert_eq!(ok("localhost:81"), ("127.0.0.1:81".into(), false));
        let fallback = parse_address(":80").ok().and_then(|a| a.ipv4_fallback());
        assert_eq!(fallback.map(|a| a.to_string()).as_deref(), Some("0.0.0.0:80"));
    }

    #[test]
    fn bad_addresses_say_why() {
        assert_eq!(err(""), "an address is required (e.g. `:80` or `127.0.0.1:8080`)");
        assert_eq!(
            err("80"),
            "`80` has no port (expected e.g. `:80`, `127.0.0.1:8080` or `[::]:80`)"
        );
        assert_eq!(
            err("1.2.3.4:"),
            "`1.2.3.4:` has no port (expected e.g. `:80`, `127.0.0.1:8080` or `[::]:80`)"
        );
        assert_eq!(err(":http"), "`:http`: the port must be a number from 0 to 65535");
        assert_eq!(err(":65536"), "`:65536`: the port must be a number from 0 to 65535");
        assert!(
            err("example.com:80").starts_with("`example.com:80`: the host must be an IP address")
        );
        assert!(err("::1:80").contains("the host must be an IP address"));
        assert_eq!(
            err(":53/udp"),
            "`:53/udp`: only TCP entry points are supported (`/tcp` or no suffix)"
        );
    }

    #[test]
    fn ips_and_cidrs() {
        for good in ["10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "0.0.0.0/0", " 1.2.3.4 "] {
            assert_eq!(check_ip_or_cidr(good), Ok(()), "{good}");
        }
        assert_eq!(
            check_ip_or_cidr("10.0.0.300"),
            Err("`10.0.0.300` is not an IP address or CIDR range".into())
        );
        assert_eq!(
            check_ip_or_cidr("10.0.0.0/33"),
            Err("`10.0.0.0/33`: the prefix length must be a number from 0 to 32".into())
        );
        assert!(check_ip_or_cidr("10.0.0.0/+8").is_err());
    }
}
