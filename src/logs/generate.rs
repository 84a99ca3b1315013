//! A deterministic generator of realistic access logs, for tests and `bench/report.sh`:
//! Zipf-skewed paths, clients and agents, static assets, bots, 404 probes, referrers, and
//! timestamps spread over several days. Same seed, same log.

use std::fmt::Write as _;
use std::io::{self, Write};

/// xorshift64*: small, fast, good enough for synthetic traffic.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf(s) over 0..n by inverse CDF (binary search over a precomputed table).
#[derive(Clone, Debug)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n.max(1) {
            acc += 1.0 / (k as f64).powf(s);
            cdf.push(acc);
        }
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        Zipf { cdf }
    }
    pub fn sample(&self, r: &mut Rng) -> usize {
        let u = r.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{v} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; Pixel {v}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/{v}.0.0.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.{v}.0",
    "python-requests/2.{v}.0",
    "Go-http-client/1.1",
    "-",
];

const PROBES: &[&str] = &[
    "/wp-login.php",
    "/.env",
    "/xmlrpc.php",
    "/admin/config.php",
    "/.git/config",
    "/phpmyadmin/index.php",
];
const STATIC: &[&str] = &["css", "js", "png", "jpg", "svg", "woff2", "ico", "gif"];
const REFERRERS: &[&str] = &[
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://news.ycombinator.com/item?id=1",
    "https://t.co/abc",
];
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    pub lines: u64,
    pub seed: u64,
    pub days: u32,
    /// Distinct pages, clients and agent variants (each Zipf-distributed).
    pub pages: usize,
    pub clients: usize,
    pub agents: usize,
    /// First day, as days since the epoch.
    pub start_day: u32,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            lines: 100_000,
            seed: 1,
            days: 7,
            pages: 20_000,
            clients: 50_000,
            agents: 2_000,
            start_day: 19_700,
        }
    }
}

/// Write `spec.lines` COMBINED lines.
pub fn write_combined(spec: &Spec, out: &mut dyn Write) -> io::Result<()> {
    let mut r = Rng::new(spec.seed);
    let pages = Zipf::new(spec.pages, 1.05);
    let clients = Zipf::new(spec.clients, 0.9);
    let agents = Zipf::new(spec.agents, 1.2);
    let span_ms = u64::from(spec.days.max(1)) * 86_400_000;
    let mut line = String::with_capacity(512);
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    for i in 0..spec.lines {
        line.clear();
        let at = i * span_ms / spec.lines.max(1) + r.below(2000);
        let day = spec.start_day as i64 + (at / 86_400_000) as i64;
        let (y, m, d) = crate::stats::civil_from_days(day);
        let s = (at % 86_400_000) / 1000;
        let c = clients.sample(&mut r) as u64;
        let ip = if c.is_multiple_of(17) {
            format!("2001:db8:{:x}::{:x}", c % 65_536, c / 65_536 + 1)
        } else {
            let h = crate::stats::hash::fast_hash(&c.to_le_bytes());
            format!(
                "{}.{}.{}.{}",
                1 + (h % 223),
                (h >> 8) % 256,
                (h >> 16) % 256,
                1 + (h >> 24) % 254
            )
        };
        let a = agents.sample(&mut r);
        let agent = AGENTS[a % AGENTS.len()].replace("{v}", &(40 + a / AGENTS.len()).to_string());
        let roll = r.below(100);
        let (method, path, status, bytes) = if roll < 3 {
            (
                "GET",
                PROBES[r.below(PROBES.len() as u64) as usize].to_string(),
                404,
                150 + r.below(200),
            )
        } else if roll < 40 {
            let p = pages.sample(&mut r);
            let ext = STATIC[p % STATIC.len()];
            let st = if r.below(10) == 0 { 304 } else { 200 };
            (
                "GET",
                format!("/static/{}/asset-{p}.{ext}", p % 50),
                st,
                if st == 304 { 0 } else { 500 + r.below(200_000) },
            )
        } else if roll < 45 {
            (
                "POST",
                format!("/api/items/{}", r.below(1000)),
                if r.below(50) == 0 { 500 } else { 201 },
                50 + r.below(500),
            )
        } else {
            let p = pages.sample(&mut r);
            let q =
                if p.is_multiple_of(9) { format!("?page={}", r.below(5)) } else { String::new() };
            let st = match r.below(200) {
                0 => 500,
                1..=3 => 301,
                4..=8 => 404,
                _ => 200,
            };
            ("GET", format!("/blog/{}/post-{p}.html{q}", p % 40), st, 2_000 + r.below(60_000))
        };
        let referrer =
            if r.below(4) == 0 { REFERRERS[r.below(REFERRERS.len() as u64) as usize] } else { "-" };
        let proto = if r.below(3) == 0 { "HTTP/2.0" } else { "HTTP/1.1" };
        let _ = writeln!(
            line,
            "{ip} - - [{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000] \"{method} {path} {proto}\" {status} {bytes} \"{referrer}\" \"{agent}\"",
            MONTHS[(m - 1) as usize],
            s / 3600,
            s / 60 % 60,
            s % 60
        );
        // One line in 500 is damaged (cut short or garbled), as real logs have: both tollgate and
        // GoAccess must count it as failed.
        match r.below(500) {
            0 => line.truncate(line.find(' ').unwrap_or(0)),
            1 => line.replace_range(..line.find(' ').unwrap_or(0), "not-an-ip"),
            _ => {}
        }
        if line.ends_with('\n') {
            w.write_all(line.as_bytes())?;
        } else {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_parseable() {
        let spec = Spec { lines: 500, ..Spec::default() };
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_combined(&spec, &mut a).expect("writes");
        write_combined(&spec, &mut b).expect("writes");
        assert_eq!(a, b);
        let f = crate::logs::detect(&a).expect("detected");
        assert_eq!(f.name(), "COMBINED");
        let mut hit = crate::stats::Hit::default();
        let mut s = Vec::new();
        let lines: Vec<&[u8]> = a.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 500);
        let failed = lines.iter().filter(|l| f.parse(l, &mut hit, &mut s).is_err()).count();
        assert!(failed < 10, "{failed}");
    }
}
