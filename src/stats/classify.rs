//! Request and user-agent classification following GoAccess 1.7's documented lists: static-file
//! extensions (Debian's goaccess.conf), browsers, operating systems and crawlers (its
//! browsers.c and opesys.c). The lists are facts about GoAccess; the matching code is ours.
//!
//! A browser is the first entry of the list (in list order) whose needle occurs anywhere in the
//! agent; GoAccess tries its crawler heuristics ("; +http", " (http", ...) first. One
//! Aho-Corasick pass finds every needle at once, and the lowest list index wins, which gives the
//! same answer as GoAccess's strstr per entry at a fraction of the cost.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};

use super::hit::{Text, fill};

/// Static-file extensions, as Debian's /etc/goaccess/goaccess.conf lists them.
pub const STATIC_EXTENSIONS: &[&str] = &[
    ".css", ".js", ".jpg", ".png", ".gif", ".ico", ".jpeg", ".pdf", ".csv", ".mpeg", ".mpg",
    ".swf", ".woff", ".woff2", ".xls", ".xlsx", ".doc", ".docx", ".ppt", ".pptx", ".txt", ".zip",
    ".ogg", ".mp3", ".mp4", ".exe", ".iso", ".gz", ".rar", ".svg", ".bmp", ".tar", ".tgz", ".tiff",
    ".tif", ".ttf", ".flv", ".dmg", ".xz", ".zst",
];

/// The longest of `STATIC_EXTENSIONS`, dot included.
const MAX_EXTENSION: usize = 6;

/// GoAccess's static test: the target (query included) is longer than an extension and ends
/// with it, compared without case.
///
/// Every extension is a dot and no other dot, so a target ends with one exactly when what
/// follows its last dot is one: the list is only walked for targets with a dot near their end
/// (it was 40 failed comparisons for `/`, on every request).
pub fn is_static_path(target: &[u8]) -> bool {
    let tail = &target[target.len().saturating_sub(MAX_EXTENSION)..];
    let Some(dot) = tail.iter().rposition(|&b| b == b'.') else { return false };
    let suffix = &tail[dot..];
    suffix.len() < target.len()
        && STATIC_EXTENSIONS.iter().any(|ext| suffix.eq_ignore_ascii_case(ext.as_bytes()))
}

/// Browser families (GoAccess's browser "types").
pub const BROWSER_FAMILIES: &[&str] = &[
    "Unknown",
    "Crawlers",
    "Others",
    "Game Systems",
    "MSIE",
    "Edge",
    "Surf",
    "Opera",
    "Feeds",
    "Firefox",
    "Beaker",
    "Brave",
    "Vivaldi",
    "Yandex.Browser",
    "Chrome",
    "Safari",
    "Podcasts",
    "Uptime",
];
pub(crate) const CRAWLERS: u8 = 1;

/// Operating-system families.
pub const OS_FAMILIES: &[&str] = &[
    "Unknown",
    "Android",
    "Windows",
    "Unix-like",
    "iOS",
    "Macintosh",
    "Darwin",
    "Linux",
    "BSD",
    "Chrome OS",
    "Unix",
    "Others",
];

// (needle, family index into BROWSER_FAMILIES), in GoAccess's order.
#[rustfmt::skip]
const BROWSERS: &[(&str, u8)] = &[
    ("Xbox One", 3), ("Xbox", 3), ("PlayStation", 3), ("NintendoBrowser", 3), ("Valve Steam", 3),
    ("Origin", 3), ("Raptr", 3),
    ("Avant Browser", 2), ("IEMobile", 4), ("MSIE", 4), ("Trident/7.0", 4), ("Edg", 5), ("Edge", 5),
    ("Surf", 6),
    ("Opera Mini", 7), ("Opera Mobi", 7), ("Opera", 7), ("OPR", 7), ("OPiOS", 7), ("Coast", 7),
    ("Homebrew", 2), ("APT-", 2), ("Apt-Cacher", 2), ("Aptly", 2), ("Chef Client", 2), ("Huawei", 2),
    ("HUAWEI", 2), ("BlackBerry", 2), ("BrowserX", 2), ("Dalvik", 2), ("Dillo", 2), ("ELinks", 2),
    ("Epiphany", 2), ("Firebird", 2), ("Galeon", 2), ("google-cloud-sdk", 2), ("IBrowse", 2),
    ("K-Meleon", 2), ("Konqueror", 2), ("Links", 2), ("Lynx", 2), ("Midori", 2), ("Minefield", 2),
    ("Mosaic", 2), ("Netscape", 2), ("SeaMonkey", 2), ("UCBrowser", 2), ("Wget", 2), ("libfetch", 2),
    ("check_http", 2), ("Go-http-client", 2), ("curl", 2), ("midori", 2), ("w3m", 2),
    ("MicroMessenger", 2), ("Apache", 2), ("JOSM", 2), ("pacman", 2), ("Pamac", 2), ("libwww-perl", 2),
    ("python-requests", 2), ("PackageKit", 2), ("F-Droid", 2), ("okhttp", 2), ("node", 2),
    ("PrivacyBrowser", 2), ("Transmission", 2), ("libmpv", 2), ("aria2", 2),
    ("AppleNewsBot", 8), ("Bloglines", 8), ("Digg Feed Fetcher", 8), ("Feedbin", 8), ("FeedHQ", 8),
    ("Feedly", 8), ("Flipboard", 8), ("inoreader.com", 8), ("Netvibes", 8), ("NewsBlur", 8),
    ("PinRSS", 8), ("theoldreader.com", 8), ("WordPress.com Reader", 8), ("YandexBlogs", 8),
    ("Brainstorm", 8), ("Mastodon", 8), ("Pleroma", 8),
    ("AdsBot-Google", 1), ("AppEngine-Google", 1), ("Mediapartners-Google", 1), ("Google", 1),
    ("WhatsApp", 1),
    ("Camino", 2), ("Iceweasel", 9), ("Waterfox", 9), ("PaleMoon", 9), ("Focus", 9), ("Klar", 9),
    ("Firefox", 9),
    ("BeakerBrowser", 10), ("Brave", 11), ("Vivaldi", 12), ("YaBrowser", 13),
    ("HeadlessChrome", 14), ("Chrome", 14), ("CriOS", 14),
    ("AppleBot", 1), ("facebookexternalhit", 1), ("Twitter", 1),
    ("Safari", 15),
    ("Slack", 1), ("Sogou", 1), ("Java", 1), ("Jakarta Commons-HttpClient", 1), ("netEstate", 1),
    ("PiplBot", 1), ("IstellaBot", 1), ("heritrix", 1), ("PagesInventory", 1), ("rogerbot", 1),
    ("fastbot", 1), ("yacybot", 1), ("PycURL", 1), ("PHP", 1), ("AndroidDownloadManager", 1),
    ("Embedly", 1), ("ruby", 1), ("Ruby", 1), ("python", 1), ("Python", 1), ("LinkedIn", 1),
    ("Microsoft-WebDAV", 1), ("DuckDuckGo-Favicons-Bot", 1), ("bingbot", 1), ("PetalBot", 1),
    ("Discordbot", 1), ("ZoominfoBot", 1), ("Googlebot", 1), ("DotBot", 1), ("AhrefsBot", 1),
    ("SemrushBot", 1), ("Adsbot", 1), ("BLEXBot", 1), ("NetcraftSurveyAgent", 1),
    ("Netcraft Web Server Survey", 1), ("masscan", 1), ("MJ12bot", 1), ("Pandalytics", 1),
    ("YandexBot", 1), ("Nimbostratus-Bot", 1), ("HTTP Banner Detection", 1), ("Hakai", 1),
    ("WinHttp.WinHttpRequest.5", 1), ("NetSystemsResearch", 1), ("Nextcloud Server Crawler", 1),
    ("CFNetwork", 1), ("GoScraper", 1), ("Googlebot-Image", 1), ("ZmEu", 1), ("DowntimeDetector", 1),
    ("MauiBot", 1), ("Cloud", 1), ("stagefright", 1),
    ("Downcast", 16), ("gPodder", 16), ("Instacast", 16), ("iTunes", 16), ("Miro", 16),
    ("Pocket Casts", 16), ("BashPodder", 16),
    ("Akregator", 8), ("Apple-PubSub", 8), ("BTWebClient", 8), ("com.apple.Safari.WebFeedParser", 8),
    ("FeedDemon", 8), ("Feedy", 8), ("Fever", 8), ("FreshRSS", 8), ("Liferea", 8), ("NetNewsWire", 8),
    ("RSSOwl", 8), ("Tiny Tiny RSS", 8), ("Thunderbird", 8), ("Winds", 8),
    ("Pingdom.com", 17), ("jetmon", 17), ("NodeUptime", 17), ("NewRelicPinger", 17), ("StatusCake", 17),
    ("internetVista", 17), ("Server Density Service Monitoring v2", 17),
    ("Mozilla", 2),
];

#[rustfmt::skip]
const OSES: &[(&str, u8)] = &[
    ("Android", 1), ("Windows NT 10.0", 2), ("Windows NT 6.3; ARM", 2), ("Windows NT 6.3", 2),
    ("Windows NT 6.2; ARM", 2), ("Windows NT 6.2", 2), ("Windows NT 6.1", 2), ("Windows NT 6.0", 2),
    ("Windows NT 5.2", 2), ("Windows NT 5.1", 2), ("Windows NT 5.01", 2), ("Windows NT 5.0", 2),
    ("Windows NT 4.0", 2), ("Windows NT", 2), ("Win 9x 4.90", 2), ("Windows 98", 2), ("Windows 95", 2),
    ("Windows CE", 2), ("Windows Phone 8.1", 2), ("Windows Phone 8.0", 2),
    ("Googlebot", 3), ("Mastodon", 3), ("bingbot", 2),
    ("iPad", 4), ("iPod", 4), ("iPhone", 4), ("CFNetwork", 4), ("AppleTV", 4), ("iTunes", 5),
    ("OS X", 5), ("Darwin", 6),
    ("Debian", 7), ("Ubuntu", 7), ("Fedora", 7), ("Mint", 7), ("SUSE", 7), ("Mandriva", 7),
    ("Red Hat", 7), ("Gentoo", 7), ("CentOS", 7), ("PCLinuxOS", 7), ("Arch", 7), ("Parabola", 7),
    ("FreeBSD", 8), ("NetBSD", 8), ("OpenBSD", 8), ("DragonFly", 8), ("PlayStation", 8),
    ("Linux", 7), ("linux", 7), ("CrOS", 9), ("QNX", 3), ("BB10", 3), ("AIX", 10), ("SunOS", 10),
    ("BlackBerry", 11), ("Sony", 11), ("AmigaOS", 11), ("SymbianOS", 11), ("Nokia", 11),
    ("Nintendo", 11), ("Apache", 11), ("Xbox One", 2), ("Xbox", 2),
];

const CRAWLER_HINTS: &[&str] = &["; +http", "; http", " (+http", " (http", ";++http"];

struct Matchers {
    browsers: AhoCorasick,
    oses: AhoCorasick,
}

/// Both automata are contiguous NFAs with no dense states below the root. With aho-corasick's
/// own choices (a DFA for the OS list, dense states to depth 2) they took 230 KB, and building
/// them on the proxy's first request with an agent left ~0.55 MiB resident; now 25 KB, and the
/// first request leaves ~0.25 MiB. No slower on a million-line report with 8,000 agents, where
/// the agent cache spares most lookups (docs/PERFORMANCE.md, "Memory after traffic").
fn matchers() -> &'static Matchers {
    static M: OnceLock<Matchers> = OnceLock::new();
    M.get_or_init(|| Matchers {
        browsers: compact(BROWSERS.iter().map(|b| b.0)),
        oses: compact(OSES.iter().map(|o| o.0)),
    })
}

fn compact(needles: impl IntoIterator<Item = &'static str>) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .dense_depth(0)
        .build(needles)
        .expect("a fixed list of needles builds")
}

/// The lowest-index pattern occurring anywhere, and where.
fn first_listed(ac: &AhoCorasick, hay: &str) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for m in ac.find_overlapping_iter(hay) {
        let id = m.pattern().as_usize();
        if best.is_none_or(|(b, _)| id < b) {
            best = Some((id, m.start()));
        }
    }
    best
}

/// What an agent is, as the report's browser, OS and crawler panels show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Agent {
    pub browser_family: u8,
    pub browser: Text<AGENT_TEXT>,
    pub os_family: u8,
    pub os: Text<AGENT_TEXT>,
}

/// Bytes kept of a browser's or an OS's name.
pub(crate) const AGENT_TEXT: usize = 48;

impl Agent {
    pub fn is_crawler(&self) -> bool {
        self.browser_family == CRAWLERS
    }
}

pub fn classify(agent: &str) -> Agent {
    let mut a = Agent::default();
    if agent.is_empty() || agent == "-" {
        fill(&mut a.browser, "Unknown");
        fill(&mut a.os, "Unknown");
        return a;
    }
    classify_browser(agent, &mut a);
    classify_os(agent, &mut a);
    a
}

fn cut_at<'a>(s: &'a str, stops: &[u8]) -> &'a str {
    match s.bytes().position(|b| stops.contains(&b)) {
        Some(i) => &s[..i],
        None => s,
    }
}

fn classify_browser(agent: &str, a: &mut Agent) {
    // Crawler heuristics first: the token before "; +http…" is the bot's name.
    if let Some(at) = CRAWLER_HINTS.iter().find_map(|h| agent.find(h)) {
        let head = &agent[..at];
        let start = head.rfind([' ', '+']).map_or(0, |i| i + 1);
        let name = cut_at(&agent[start..], b"; ");
        if !name.is_empty() {
            a.browser_family = CRAWLERS;
            fill(&mut a.browser, name);
            return;
        }
    }
    let Some((id, at)) = first_listed(&matchers().browsers, agent) else {
        a.browser_family = 0;
        fill(&mut a.browser, "Unknown");
        return;
    };
    let (needle, family) = BROWSERS[id];
    a.browser_family = family;
    let m = &agent[at..];
    if m.contains("rv:11") && m.contains("Trident/7.0") {
        fill(&mut a.browser, "MSIE/11.0");
        return;
    }
    if m.contains("OPR") || (m.starts_with("Opera") && m.contains('/')) {
        let ver = m.rfind('/').map_or("", |i| cut_at(&m[i..], b"; )"));
        fill(&mut a.browser, &format!("Opera{ver}"));
        return;
    }
    if m.starts_with("MSIE") {
        let v = cut_at(m, b";)-").replace(' ', "/");
        fill(&mut a.browser, &v);
        return;
    }
    // Skip as many spaces as the needle has, then cut at the first of "; )".
    let mut rest = m;
    let mut skip = 0;
    for _ in 0..needle.matches(' ').count() {
        match rest[skip..].find(' ') {
            Some(i) => skip += i + 1,
            None => break,
        }
    }
    rest = &rest[..skip + cut_at(&rest[skip..], b"; )").len()];
    fill(&mut a.browser, &rest.replace('+', "-"));
}

fn real_windows(tkn: &str) -> Option<&'static str> {
    const W: &[(&str, &str)] = &[
        ("10.0", "Windows 10"),
        ("6.3", "Windows 8.1"),
        ("6.2; ARM", "Windows RT"),
        ("6.2", "Windows 8"),
        ("6.1", "Windows 7"),
        ("6.0", "Windows Vista"),
        ("5.2", "Windows XP x64"),
        ("5.1", "Windows XP"),
        ("5.0", "Windows 2000"),
    ];
    W.iter().find(|(k, _)| tkn.contains(k)).map(|(_, v)| *v)
}

fn real_android(tkn: &str) -> String {
    const A: &[(&str, &str)] = &[
        ("12", "Android 12"),
        ("11", "Android 11"),
        ("10", "Android 10"),
        ("9", "Pie 9"),
        ("8.1", "Oreo 8.1"),
        ("8.0", "Oreo 8.0"),
        ("7.1", "Nougat 7.1"),
        ("7.0", "Nougat 7.0"),
        ("6.0.1", "Marshmallow 6.0.1"),
        ("6.0", "Marshmallow 6.0"),
        ("5.1", "Lollipop 5.1"),
        ("5.0", "Lollipop 5.0"),
        ("4.4", "KitKat 4.4"),
        ("4.3", "Jelly Bean 4.3"),
        ("4.2", "Jelly Bean 4.2"),
        ("4.1", "Jelly Bean 4.1"),
        ("4.0", "Ice Cream Sandwich 4.0"),
        ("3.", "Honeycomb 3"),
        ("2.3", "Gingerbread 2.3"),
        ("2.2", "Froyo 2.2"),
        ("2.0", "Eclair 2"),
        ("2.1", "Eclair 2"),
        ("1.6", "Donut 1.6"),
        ("1.5", "Cupcake 1.5"),
    ];
    A.iter()
        .find(|(k, _)| tkn.contains(k))
        .map_or_else(|| tkn.to_string(), |(_, v)| (*v).to_string())
}

fn real_mac(tkn: &str) -> String {
    const M: &[(&str, &str)] = &[
        ("13.0", "macOS 12 Ventura"),
        ("12.0", "macOS 12 Monterey"),
        ("11.0", "macOS 11 Big Sur"),
        ("10.15", "macOS 10.15 Catalina"),
        ("10.14", "macOS 10.14 Mojave"),
        ("10.13", "macOS 10.13 High Sierra"),
        ("10.12", "macOS 10.12 Sierra"),
        ("10.11", "OS X 10.11 El Capitan"),
        ("10.10", "OS X 10.10 Yosemite"),
        ("10.9", "OS X 10.9 Mavericks"),
        ("10.8", "OS X 10.8 Mountain Lion"),
        ("10.7", "OS X 10.7 Lion"),
        ("10.6", "OS X 10.6 Snow Leopard"),
        ("10.5", "OS X 10.5 Leopard"),
        ("10.4", "OS X 10.4 Tiger"),
        ("10.3", "OS X 10.3 Panther"),
        ("10.2", "OS X 10.2 Jaguar"),
        ("10.1", "OS X 10.1 Puma"),
        ("10.0", "OS X 10.0 Cheetah"),
    ];
    M.iter()
        .find(|(k, _)| tkn.contains(k))
        .map_or_else(|| tkn.to_string(), |(_, v)| (*v).to_string())
}

fn classify_os(agent: &str, a: &mut Agent) {
    let agent_sp = agent.replace('+', " ");
    let agent = agent_sp.as_str();
    let Some((id, at)) = first_listed(&matchers().oses, agent) else {
        fill(&mut a.os, "Unknown");
        return;
    };
    let (needle, family) = OSES[id];
    a.os_family = family;
    let tkn = &agent[at..];
    let first_word = || cut_at(agent, b" ").to_string();
    let label: String = if agent.contains("Windows") {
        real_windows(tkn).unwrap_or(needle).to_string()
    } else if tkn.starts_with("Android") {
        real_android(cut_at(tkn, b";)("))
    } else if tkn.starts_with("CFNetwork") || tkn.starts_with("Darwin") {
        first_word()
    } else if tkn.starts_with("iPad") || tkn.starts_with("iPod") || tkn.starts_with("iPhone") {
        match (tkn.find(" OS "), tkn.find(" like Mac")) {
            (Some(o), Some(l)) if o < l => format!("iOS {}", tkn[o + 4..l].replace('_', ".")),
            _ => needle.to_string(),
        }
    } else if tkn.starts_with("OS X") {
        let t = cut_at(tkn, b";)(").replace('_', ".");
        real_mac(&t)
    } else {
        let spaces = needle.matches(' ').count();
        let mut seen = 0;
        let end = tkn
            .bytes()
            .position(|b| {
                if b == b' ' {
                    seen += 1;
                }
                b == b';' || b == b')' || b == b'(' || seen > spaces
            })
            .unwrap_or(tkn.len());
        tkn[..end].to_string()
    };
    fill(&mut a.os, &label);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_follows_goaccess() {
        assert!(is_static_path(b"/style2.css"));
        assert!(is_static_path(b"/A.PNG"));
        assert!(is_static_path(b"/x?f=a.css"));
        assert!(!is_static_path(b"/a.css?v=1"));
        assert!(!is_static_path(b".css"));
        assert!(!is_static_path(b"/index.html"));
        assert!(is_static_path(b"/a.b/c.WOFF2"));
        assert!(!is_static_path(b"/a.css.html"));
        assert!(!is_static_path(b"/"));
        assert!(!is_static_path(b""));
        // The short cut rests on this shape of the list.
        for ext in STATIC_EXTENSIONS {
            assert!(ext.len() <= MAX_EXTENSION, "{ext} is longer than MAX_EXTENSION");
            assert_eq!(ext.rfind('.'), Some(0), "{ext} is not one dot and a name");
        }
        // The same answers as testing each extension, for every target made of a few pieces.
        let pieces = ["", "/", ".", "a", "css", ".css", ".CsS", "woff2", "?x=", ".tar.gz"];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let target = format!("{a}{b}{c}");
                    let t = target.as_bytes();
                    let slow = STATIC_EXTENSIONS.iter().any(|ext| {
                        let e = ext.as_bytes();
                        t.len() > e.len() && t[t.len() - e.len()..].eq_ignore_ascii_case(e)
                    });
                    assert_eq!(is_static_path(t), slow, "{target:?}");
                }
            }
        }
    }

    #[test]
    fn browsers_and_oses() {
        let chrome = "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36";
        let a = classify(chrome);
        assert_eq!(BROWSER_FAMILIES[a.browser_family as usize], "Chrome");
        assert_eq!(a.browser.as_str(), "Chrome/32.0.1700.107");
        assert_eq!(OS_FAMILIES[a.os_family as usize], "Windows");
        assert_eq!(a.os.as_str(), "Windows 7");

        let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        let b = classify(bot);
        assert!(b.is_crawler());
        assert_eq!(b.browser.as_str(), "Googlebot/2.1");

        let ff = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:27.0) Gecko/20100101 Firefox/27.0";
        let f = classify(ff);
        assert_eq!(f.browser.as_str(), "Firefox/27.0");
        assert_eq!(OS_FAMILIES[f.os_family as usize], "Linux");

        let ie = classify("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1)");
        assert_eq!(ie.browser.as_str(), "MSIE/8.0");
        assert_eq!(ie.os.as_str(), "Windows XP");

        let mac = classify(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.73.11 (KHTML, like Gecko) Version/7.0.1 Safari/537.73.11",
        );
        assert_eq!(BROWSER_FAMILIES[mac.browser_family as usize], "Safari");
        assert_eq!(mac.os.as_str(), "OS X 10.9 Mavericks");

        // Found by fuzzing: a multibyte character where a version is cut must not split it.
        let o = classify(
            "Opera/9.80 (X11) Presto/2.12.388 Version/12.16\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}\u{2603}",
        );
        assert!(o.browser.starts_with("Opera/12.16"));

        let u = classify("-");
        assert_eq!((u.browser_family, u.browser.as_str()), (0, "Unknown"));
    }
}
