//! Projection tests. Every case runs on SQLite and on PostgreSQL with one shared body; the
//! PostgreSQL variants fail (never skip) when the server is unreachable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod erasure;
mod lag;
mod lease;
mod poison;
mod replay;
mod versions;

/// Runs `$case(Backend)` as `$case::sqlite` and `$case::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($case:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case(roster_app::testing::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$case(roster_app::testing::Backend::Postgres).await
            }
        }
    };
}
