//! tollgate's own HTTP answers (Traefik's `…@internal` services): the live traffic report now;
//! the API and dashboard come with their own issue.
//!
//! These run on the request path of their own routers only; a proxied request never waits on
//! them. They read published data (the stats engine's figures) and never write.

mod report;

pub use report::{Answer, report};
