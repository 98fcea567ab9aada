//! Who is asking: the peer's address, or, when the peer is a proxy this
//! instance was told to trust (`Settings::trusted_proxies`), the address the
//! proxies recorded in `Forwarded` / `X-Forwarded-For`. Login and public-page
//! limits count per client address, so a header sent by anyone else is
//! ignored: otherwise a guesser would name a new address with every try.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use app::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

/// The address limits and logs use for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Networks whose connections are proxies that add the client's address.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of addresses and networks: `127.0.0.1, 10.0.0.0/8, ::1`.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: “{entry}” is neither an address nor a network"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Walks the recorded chain from the nearest hop back: the first address
    /// not a trusted proxy is the client. Hops further back were written by
    /// the client itself and could say anything. An entry that is not an
    /// address (`unknown`, an obfuscated name) ends the walk at the proxy that
    /// wrote it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_chain(headers).into_iter().rev() {
            let Some(hop) = hop else { break };
            client = hop.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The addresses proxies recorded, the client's first: from the standard
/// `Forwarded` header if any, else `X-Forwarded-For` (each over all its lines).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let lines = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded = lines("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .into_iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node.trim_matches('"')))
            })
            .collect();
    }
    lines("x-forwarded-for").into_iter().map(parse_node).collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.parse()
        .ok()
        .or_else(|| SocketAddr::from_str(node).ok().map(|s| s.ip()))
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            tracing::error!("request without its connection's address");
            return Err(ApiError::Internal);
        };
        let proxies = parts.extensions.get::<Arc<TrustedProxies>>();
        Ok(ClientIp(proxies.map_or(peer.ip().to_canonical(), |p| {
            p.client(peer.ip(), &parts.headers)
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let claims = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(proxies.client(ip("192.0.2.9"), &claims), ip("192.0.2.9"));
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &claims),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_last_untrusted_hop() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        // The client forged the first entry; the proxies appended the rest.
        let chain = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &chain), ip("203.0.113.7"));
        let only_proxies = headers(&[("x-forwarded-for", "10.2.2.2")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &only_proxies), ip("10.2.2.2"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &HeaderMap::new()), ip("127.0.0.1"));
    }

    #[test]
    fn the_standard_header_wins_and_its_forms_are_read() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let both = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            (
                "forwarded",
                "for=\"[2001:db8::1]:4711\";proto=https, for=192.0.2.60:80;by=127.0.0.1",
            ),
        ]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &both), ip("192.0.2.60"));
        let v6 = headers(&[("forwarded", "For=\"[2001:db8::1]:4711\"")]);
        assert_eq!(proxies.client(ip("::ffff:127.0.0.1"), &v6), ip("2001:db8::1"));
    }

    #[test]
    fn an_entry_that_is_not_an_address_stops_at_the_proxy_that_wrote_it() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let unknown = headers(&[("forwarded", "for=1.2.3.4, for=unknown")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &unknown), ip("127.0.0.1"));
    }

    #[test]
    fn a_bad_list_says_which_entry() {
        let error = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(error.contains("proxy.local"), "{error}");
        assert!(TrustedProxies::parse(" ").unwrap().0.is_empty());
    }
}
